// `mobilellm serve`: the OpenAI-compatible HTTP server.
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <thread>

#include "cli_common.h"
#include "commands.h"
#include "mobilellm/server.h"

namespace mobilellm::cli {

void add_serve_command(CLI::App& app) {
  auto opts = std::make_shared<server::ServerOptions>();
  auto model = std::make_shared<std::string>();
  auto tokenizer = std::make_shared<std::string>();
  auto draft = std::make_shared<DraftOptions>();
  CLI::App* cmd = app.add_subcommand("serve", "Serve the model over an OpenAI-compatible HTTP API");
  cmd->add_option(
         "-m,--model", *model,
         "Checkpoint directory, GGUF file, model file (mobilellm convert), or Hub model ORG/NAME[:SELECTOR] (docs/HUB.md)")
      ->required();
  cmd->add_option("--tokenizer", *tokenizer,
                  "Tokenizer (tokenizer.model, tokenizer.json or a directory; default: the checkpoint's)");
  cmd->add_option("--host", opts->host, "Address to listen on")->capture_default_str();
  cmd->add_option("--port", opts->port, "Port (0: any free port)")->capture_default_str()->check(CLI::Range(0, 65535));
  cmd->add_option("--parallel", opts->parallel,
                  "Generation slots: requests served at once, their next tokens computed together in one step")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  cmd->add_option("-b,--batch-size", opts->engine.prefill_chunk,
                  "Prompt tokens per step (chunked prefill). A long prompt is read this many tokens at a time, and "
                  "the requests generating meanwhile get a token after each chunk: smaller makes them wait less "
                  "between tokens, larger reads prompts faster")
      ->capture_default_str()
      ->check(CLI::Range(1, 4096));
  cmd->add_option("--ctx", opts->context, "Context length per slot (0: min(model maximum, 8192))")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--queue", opts->max_queue, "Requests that may wait for a slot; more get 503")
      ->capture_default_str()
      ->check(CLI::Range(0, 4096));
  cmd->add_option("--api-key", opts->api_key, "Require Authorization: Bearer KEY")->envname("MOBILELLM_API_KEY");
  cmd->add_option("--max-body", opts->max_body_bytes, "Largest request body in bytes (larger: 413)")
      ->capture_default_str();
  cmd->add_option("--max-connections", opts->max_connections,
                  "Connections served at once; as many more wait, beyond that they are closed")
      ->check(CLI::Range(2, 4096));
  cmd->add_option("--idle-timeout", opts->idle_timeout, "Seconds a connection may wait for its next request")
      ->check(CLI::Range(1, 3600));
  cmd->add_option("--request-timeout", opts->request_timeout, "Seconds to receive a request's headers and body")
      ->check(CLI::Range(1, 3600));
  cmd->add_option("--served-model-name", opts->served_name,
                  "Model id reported by the API (default: ORG/NAME for a Hub model, else the directory name)");
  add_draft_options(cmd, *draft);
  add_threads_option(cmd, opts->engine.threads);
  cmd->add_flag("--verify", opts->engine.verify, "Check every tensor checksum of a model file while loading");
  cmd->callback([opts, model, tokenizer, draft] {
    // The default of each request's "draft_max".
    apply_draft_options(*draft, opts->engine);
    opts->engine.model = resolve_model_arg(*model);
    if (opts->served_name.empty() && opts->engine.model != *model)
      opts->served_name = *model;  // the Hub name, not a commit id
    opts->engine.tokenizer = *tokenizer;
    // Ctrl-C and SIGTERM stop the server from one thread that waits for them:
    // the first stops it gracefully, a second exits at once. A client that
    // vanishes mid-write must not kill the process.
    signal(SIGPIPE, SIG_IGN);
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

    server::Server srv(*opts);
    const int port = srv.bind();
    srv.start();
    std::atomic<bool> stopped{false};  // set before the signal that wakes the stopper at the end
    std::thread stopper([&] {
      int sig = 0;
      sigwait(&stop_signals, &sig);
      if (stopped) return;
      std::fprintf(stderr,
                   "mobilellm serve: stopping (running generations are cancelled; a second signal exits at once)\n");
      srv.stop();
      sigwait(&stop_signals, &sig);
      if (stopped) return;
      std::fprintf(stderr, "mobilellm serve: exiting at once\n");
      _exit(128 + sig);
    });
    auto end_stopper = [&] {
      stopped = true;
      kill(getpid(), SIGTERM);
      stopper.join();
    };
    std::fprintf(stderr, "mobilellm serve: listening on http://%s:%d, loading %s\n", opts->host.c_str(), port,
                 model->c_str());
    ModelInfo info;
    try {
      info = srv.load();
    } catch (...) {
      end_stopper();
      throw;
    }
    if (info.random_weights) note_random_weights(*model);
    std::fprintf(stderr, "mobilellm serve: ready (%d slots); Ctrl-C stops\n", opts->parallel);
    srv.wait();
    end_stopper();
    std::fprintf(stderr, "mobilellm serve: stopped\n");
  });
}

}  // namespace mobilellm::cli
