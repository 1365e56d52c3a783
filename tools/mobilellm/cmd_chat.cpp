// `mobilellm chat`: a multi-turn conversation in the model's chat format,
// streamed. At a terminal it has line editing and history (libedit); with
// stdin from a pipe or file every line is one user message, so it can be
// scripted. Ctrl-C stops the answer being written, not the program.
#include <editline/readline.h>
#include <signal.h>
#include <termios.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "cli_common.h"
#include "commands.h"
#include "mobilellm/engine.h"
#include "mobilellm/error.h"

namespace mobilellm::cli {
namespace {

std::atomic<bool> g_interrupted{false};
extern "C" void on_interrupt(int) { g_interrupted = true; }

struct ChatOptions {
  std::string model, tokenizer, system;
  int64_t context = 0;
  int64_t max_tokens = 1024;  // bounded: a random model never says end-of-turn
  int threads = 0;
  bool verify = false;
  std::optional<double> temperature, top_p;
  std::optional<uint64_t> seed;
  DraftOptions draft;
};

ChatMessage message(std::string role, std::string content) {
  ChatMessage m;
  m.role = std::move(role);
  m.content = std::move(content);
  return m;
}

// While an answer is written the terminal neither echoes what is typed nor
// keeps it: typed text would show twice (echoed now, then by the next
// prompt) and a Ctrl-D would end the next prompt's input. Ctrl-C still works.
class QuietTerminal {
 public:
  explicit QuietTerminal(bool terminal) : active_(terminal && tcgetattr(STDIN_FILENO, &saved_) == 0) {
    if (!active_) return;
    termios quiet = saved_;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO | ICANON);
    tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  }
  ~QuietTerminal() {
    if (!active_) return;
    tcflush(STDIN_FILENO, TCIFLUSH);  // drop what was typed during the answer
    tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
  }
  QuietTerminal(const QuietTerminal&) = delete;
  QuietTerminal& operator=(const QuietTerminal&) = delete;

 private:
  termios saved_{};
  bool active_;
};

struct Totals {
  int turns = 0;
  int64_t generated = 0;
  double last_prefill_tok_s = 0, last_decode_tok_s = 0;
};

class Chat {
 public:
  Chat(const ChatOptions& o, bool terminal) : options_(o), terminal_(terminal) {
    EngineOptions options{.model = o.model, .tokenizer = o.tokenizer, .threads = o.threads, .verify = o.verify};
    apply_draft_options(o.draft, options);
    engine_ = Engine::load(options);
    const int64_t max = engine_->info().max_context;
    session_ = engine_->new_session(o.context > 0 ? std::min(o.context, max) : std::min<int64_t>(max, 8192));
    request_ = engine_->default_request();
    if (o.temperature) request_.sampling.temperature = *o.temperature;
    if (o.top_p) request_.sampling.top_p = *o.top_p;
    if (o.seed) request_.sampling.seed = *o.seed;
    reset();
  }

  const ModelInfo& info() const { return engine_->info(); }

  void reset() {
    messages_.clear();
    if (!options_.system.empty()) messages_.push_back(message("system", options_.system));
  }

  // Runs a /command; false for a line that is not one.
  bool command(const std::string& line) {
    if (line == "/reset") {
      reset();
      session_->reset();
      totals_ = {};
      std::fprintf(stderr, "(conversation cleared)\n");
    } else if (line == "/stats") {
      std::fprintf(stderr, "context: %zu of %lld tokens, KV cache %.1f MiB | turns: %d, tokens generated: %lld\n",
                   session_->tokens().size(), static_cast<long long>(session_->context()),
                   static_cast<double>(session_->cache_bytes()) / (1 << 20), totals_.turns,
                   static_cast<long long>(totals_.generated));
      std::fprintf(stderr, "last answer: prompt %.1f tok/s, generation %.1f tok/s\n", totals_.last_prefill_tok_s,
                   totals_.last_decode_tok_s);
    } else if (line == "/help") {
      std::fprintf(stderr,
                   "/reset clears the conversation, /stats shows the context and speed, /quit leaves; "
                   "a message that starts with / is written with two: //etc\n");
    } else if (line.size() > 1 && line[0] == '/' && line[1] != '/') {
      std::fprintf(stderr, "error: unknown command %s (/help lists them; //text sends /text as a message)\n",
                   line.c_str());
    } else {
      return false;
    }
    return true;
  }

  void answer(const std::string& line) {
    const std::string user = line.rfind("//", 0) == 0 ? line.substr(1) : line;
    messages_.push_back(message("user", user));
    request_.prompt = engine_->render_chat(messages_, "", true);
    const int64_t budget = session_->context() - static_cast<int64_t>(request_.prompt.size());
    if (budget <= 0) {
      messages_.pop_back();
      std::fprintf(stderr, "error: the conversation no longer fits the context of %lld tokens; /reset starts over\n",
                   static_cast<long long>(session_->context()));
      return;
    }
    request_.max_tokens = options_.max_tokens > 0 ? std::min(options_.max_tokens, budget) : budget;
    g_interrupted = false;
    GenerateResult r;
    {
      QuietTerminal quiet(terminal_);
      r = session_->generate(request_, [](const TokenEvent& e) {
        std::fwrite(e.text.data(), 1, e.text.size(), stdout);
        std::fflush(stdout);
        return !g_interrupted.load();
      });
    }
    std::fputc('\n', stdout);
    std::fflush(stdout);
    messages_.push_back(message("assistant", r.text));
    ++totals_.turns;
    totals_.generated += static_cast<int64_t>(r.tokens.size());
    const int64_t fresh = r.prompt_tokens - r.cached_tokens;
    totals_.last_prefill_tok_s = fresh / std::max(r.prefill_seconds, 1e-9);
    totals_.last_decode_tok_s = r.tokens.size() > 1 ? (r.tokens.size() - 1) / std::max(r.decode_seconds, 1e-9) : 0.0;
    if (terminal_ || r.finish != FinishReason::kStop)
      std::fprintf(stderr, "[%zu tokens, %.1f tok/s%s%s]\n", r.tokens.size(), totals_.last_decode_tok_s,
                   draft_summary(r).c_str(),
                   r.finish == FinishReason::kCancelled ? ", stopped"
                   : r.finish == FinishReason::kLength  ? ", length limit"
                                                        : "");
  }

 private:
  const ChatOptions& options_;
  bool terminal_;
  std::shared_ptr<Engine> engine_;
  std::unique_ptr<Session> session_;
  GenerateRequest request_;
  std::vector<ChatMessage> messages_;
  Totals totals_;
};

// One line of input; nullopt at the end of input.
std::optional<std::string> read_line(bool terminal) {
  if (!terminal) {
    std::string line;
    if (!std::getline(std::cin, line)) return std::nullopt;
    return line;
  }
  for (;;) {
    g_interrupted = false;
    char* raw = readline("> ");
    if (!raw) {
      if (g_interrupted) {  // Ctrl-C at the prompt: a fresh line, not an exit
        std::fprintf(stderr, "\n(Ctrl-D or /quit leaves)\n");
        continue;
      }
      return std::nullopt;
    }
    std::string line(raw);
    std::free(raw);
    if (!line.empty()) add_history(line.c_str());
    return line;
  }
}

}  // namespace

void add_chat_command(CLI::App& app) {
  auto o = std::make_shared<ChatOptions>();
  CLI::App* cmd = app.add_subcommand("chat", "Chat with the model (multi-turn, streamed; /reset, /stats, /quit)");
  cmd->add_option(
         "-m,--model", o->model,
         "Checkpoint directory, GGUF file, model file (mobilellm convert), or Hub model ORG/NAME[:SELECTOR] (docs/HUB.md)")
      ->required();
  cmd->add_option("--tokenizer", o->tokenizer, "Tokenizer (default: the checkpoint's)");
  cmd->add_option("--system", o->system, "System message");
  cmd->add_option("-c,--ctx", o->context, "Context length (0: min(model maximum, 8192))")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("-n,--max-tokens", o->max_tokens, "Longest answer in tokens (0: what the context leaves)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--temp", o->temperature, "Temperature; 0 is greedy (default: the checkpoint's)");
  cmd->add_option("--top-p", o->top_p, "Nucleus sampling mass in (0, 1]");
  cmd->add_option("--seed", o->seed, "Sampling seed");
  add_draft_options(cmd, o->draft);
  add_threads_option(cmd, o->threads);
  cmd->add_flag("--verify", o->verify, "Check every tensor checksum of a model file while loading");
  cmd->callback([o] {
    o->model = resolve_model_arg(o->model);
    const bool terminal = isatty(STDIN_FILENO);
    Chat chat(*o, terminal);
    if (chat.info().random_weights) note_random_weights(o->model);
    struct sigaction sa = {};
    sa.sa_handler = on_interrupt;  // no SA_RESTART: a blocked read returns, readline gives up the line
    sigaction(SIGINT, &sa, nullptr);
    if (terminal) {
      using_history();
      std::fprintf(stderr, "%s: chat (/help for commands, Ctrl-C stops an answer, Ctrl-D leaves)\n",
                   chat.info().name.c_str());
    }
    while (auto line = read_line(terminal)) {
      if (line->empty()) continue;
      if (*line == "/quit" || *line == "/exit") break;
      if (chat.command(*line)) continue;
      try {
        chat.answer(*line);
      } catch (const Error& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
      }
    }
  });
}

}  // namespace mobilellm::cli
