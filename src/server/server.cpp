#include "mobilellm/server.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <thread>

#include "runtime/error.h"
#include "runtime/timer.h"
#include "server/api_error.h"
#include "server/openai_response.h"
#include "server/server_state.h"

namespace mobilellm::server {
namespace {

// Default context per slot: the KV cache of full-attention layers grows with
// use, but a 128k default would let one request take gigabytes.
constexpr int64_t kDefaultContext = 8192;
// Connection threads started before any connection arrives.
constexpr size_t kBaseHttpThreads = 8;

// httplib's server with one deadline for reading each request (headers and
// body together): a client that sends a byte now and then (slowloris) is cut
// off when the deadline passes instead of holding its thread for ever.
// Otherwise it processes a connection as httplib's own does.
class HttpServer final : public httplib::Server {
 public:
  explicit HttpServer(int request_timeout_s) : request_timeout_ms_(static_cast<time_t>(request_timeout_s) * 1000) {}

 private:
  bool process_and_close_socket(socket_t sock) override {
    std::string remote_addr, local_addr;
    int remote_port = 0, local_port = 0;
    httplib::detail::get_remote_ip_and_port(sock, remote_addr, remote_port);
    httplib::detail::get_local_ip_and_port(sock, local_addr, local_port);
    const bool ok = httplib::detail::process_server_socket_core(
        svr_sock_, sock, keep_alive_max_count_, keep_alive_timeout_sec_,
        [&](bool close_connection, bool& connection_closed) {
          httplib::detail::SocketStream stream(sock, read_timeout_sec_, read_timeout_usec_, write_timeout_sec_,
                                               write_timeout_usec_, request_timeout_ms_,
                                               std::chrono::steady_clock::now());
          const bool served = process_request(stream, remote_addr, remote_port, local_addr, local_port,
                                              close_connection, connection_closed, nullptr);
          // A request that could not be read (deadline passed, garbage) ends
          // the connection: httplib would read the rest as further requests.
          if (stream.get_error() != httplib::Error::Success) connection_closed = true;
          return served;
        });
    httplib::detail::drain_and_close_socket(sock);
    return ok;
  }

  time_t request_timeout_ms_;
};

void set_error(httplib::Response& res, const ApiError& e) {
  res.status = e.status();
  if (e.status() == 503) res.set_header("Retry-After", "1");
  res.set_content(dump_json(e.body()), "application/json");
}

const char* status_type(int status) {
  switch (status) {
    case 401: return "authentication_error";
    case 404: return "not_found_error";
    case 413: return "request_too_large";
    default: return status >= 500 ? "server_error" : "invalid_request_error";
  }
}

using Endpoint = bool (*)(ServerState&, const httplib::Request&, httplib::Response&);

// Runs an endpoint: refuses it while loading, turns exceptions into error
// bodies, records the request.
httplib::Server::Handler wrap(ServerState& state, std::string name, Endpoint endpoint) {
  return [&state, name = std::move(name), endpoint](const httplib::Request& req, httplib::Response& res) {
    Timer timer;
    bool streamed = false;
    res.status = 200;
    try {
      if (!state.ready.load()) throw ApiError(503, "service_unavailable", "the model is still loading", {}, "loading");
      streamed = endpoint(state, req, res);
    } catch (const ApiError& e) {
      set_error(res, e);
    } catch (const Error& e) {  // the engine refused the request (ids, lengths, settings)
      set_error(res, invalid_request(e.what()));
    } catch (const std::exception& e) {
      set_error(res, ApiError(500, "server_error", e.what()));
    }
    if (!streamed) record_request(state, name, res.status, timer.seconds());
  };
}

template <void (*F)(ServerState&, const httplib::Request&, httplib::Response&)>
bool whole(ServerState& state, const httplib::Request& req, httplib::Response& res) {
  F(state, req, res);
  return false;
}

bool models(ServerState& state, const httplib::Request&, httplib::Response& res) {
  const Json model = {{"id", state.model_name},
                      {"object", "model"},
                      {"created", state.created},
                      {"owned_by", "mobilellm"},
                      {"max_model_len", state.context}};
  res.set_content(dump_json(Json{{"object", "list"}, {"data", Json::array({model})}}), "application/json");
  return false;
}

bool metrics(ServerState& state, const httplib::Request&, httplib::Response& res) {
  const Scheduler& s = *state.scheduler;
  const Gauges gauges{s.slots(), s.busy(), s.queued(), s.max_queue(), s.cache_bytes(), state.engine->step_stats()};
  res.set_content(state.metrics.render(gauges), "text/plain; version=0.0.4");
  return false;
}

}  // namespace

struct Server::Impl {
  explicit Impl(int request_timeout_s) : http(request_timeout_s) {}
  ServerState state;
  HttpServer http;
  int port = -1;
  std::thread listener;
  std::atomic<bool> listening_ended{false};
};

Server::Server(ServerOptions options) : impl_(std::make_unique<Impl>(options.request_timeout)) {
  ServerState& state = impl_->state;
  state.options = std::move(options);
  const ServerOptions& o = state.options;
  if (o.parallel < 1) throw Error("--parallel must be ≥ 1");
  if (o.max_queue < 0) throw Error("--queue must be ≥ 0");
  if (o.context < 0) throw Error("--ctx must be ≥ 0");
  if (o.max_connections < o.parallel + o.max_queue + 1)
    throw Error(
        "--max-connections must exceed --parallel + --queue, so that /health and waiting requests get a connection");
  if (o.idle_timeout < 1 || o.request_timeout < 1)
    throw Error("--idle-timeout and --request-timeout must be ≥ 1 second");
  HttpServer& http = impl_->http;
  // One thread per open connection up to the cap; as many more wait for a
  // thread; beyond that a new connection is closed at once.
  const size_t cap = static_cast<size_t>(o.max_connections);
  http.new_task_queue = [cap] { return new httplib::ThreadPool(std::min(kBaseHttpThreads, cap), cap, cap); };
  http.set_payload_max_length(o.max_body_bytes);
  http.set_keep_alive_timeout(o.idle_timeout);
  http.set_read_timeout(o.request_timeout);
  // SO_REUSEADDR only: httplib's default SO_REUSEPORT would let a second
  // server share a busy port and split the requests between the two.
  http.set_socket_options([](socket_t sock) { httplib::set_socket_opt(sock, SOL_SOCKET, SO_REUSEADDR, 1); });

  http.set_pre_routing_handler([&state](const httplib::Request& req, httplib::Response& res) {
    const std::string& key = state.options.api_key;
    if (key.empty() || req.path == "/health") return httplib::Server::HandlerResponse::Unhandled;
    if (req.get_header_value("Authorization") == "Bearer " + key) return httplib::Server::HandlerResponse::Unhandled;
    set_error(res, ApiError(401, "authentication_error", "a valid API key is required: Authorization: Bearer KEY", {},
                            "invalid_api_key"));
    record_request(state, req.path, 401, 0);
    return httplib::Server::HandlerResponse::Handled;
  });
  // Requests httplib answers by itself (unknown path, body too large) get an OpenAI-shaped body too.
  http.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    const std::string message = res.status == 404   ? "no endpoint " + req.method + " " + req.path
                                : res.status == 413 ? "the request body is larger than the limit"
                                                    : "the request could not be served";
    res.set_content(dump_json(ApiError(res.status, status_type(res.status), message).body()), "application/json");
  });

  http.Get("/health", [&state](const httplib::Request&, httplib::Response& res) {
    const bool ready = state.ready.load();
    res.status = ready ? 200 : 503;
    res.set_content(dump_json(Json{{"status", ready ? "ok" : "loading"}}), "application/json");
  });
  http.Get("/v1/models", wrap(state, "/v1/models", models));
  http.Get("/metrics", wrap(state, "/metrics", metrics));
  http.Post("/v1/chat/completions", wrap(state, "/v1/chat/completions", handle_chat));
  http.Post("/v1/completions", wrap(state, "/v1/completions", handle_completions));
  http.Get("/tokenizer_info", wrap(state, "/tokenizer_info", whole<handle_tokenizer_info>));
  http.Post("/tokenize", wrap(state, "/tokenize", whole<handle_tokenize>));
  http.Post("/detokenize", wrap(state, "/detokenize", whole<handle_detokenize>));
}

Server::~Server() {
  stop();
  wait();
}

int Server::bind() {
  const ServerOptions& o = impl_->state.options;
  errno = 0;
  impl_->port =
      o.port == 0 ? impl_->http.bind_to_any_port(o.host) : (impl_->http.bind_to_port(o.host, o.port) ? o.port : -1);
  if (impl_->port < 0) {
    const int err = errno;
    const std::string where = "cannot listen on " + o.host + ":" + std::to_string(o.port);
    if (err == EADDRINUSE) throw Error(where + ": address already in use (is another server running there?)");
    throw Error(err ? where + ": " + std::strerror(err) : where);
  }
  return impl_->port;
}

void Server::start() {
  if (impl_->port < 0) bind();
  impl_->listener = std::thread([this] {
    impl_->http.listen_after_bind();
    impl_->listening_ended = true;
  });
  // stop() before the listener runs would be lost: wait until it does.
  while (!impl_->http.is_running() && !impl_->listening_ended)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

ModelInfo Server::load() {
  ServerState& state = impl_->state;
  auto engine = Engine::load(state.options.engine);
  const int64_t max = engine->info().max_context;
  state.context = state.options.context > 0 ? state.options.context : std::min(max, kDefaultContext);
  if (state.context > max)
    throw Error("--ctx " + std::to_string(state.context) + " exceeds the model's " + std::to_string(max) +
                " positions");
  state.scheduler =
      std::make_unique<Scheduler>(*engine, state.options.parallel, state.context, state.options.max_queue);
  state.vocab = std::make_unique<chat::SortedVocab>(engine->tokenizer());
  state.model_name = state.options.served_name.empty() ? engine->info().name : state.options.served_name;
  state.created = static_cast<int64_t>(std::time(nullptr));
  const ModelInfo info = engine->info();
  state.engine = std::move(engine);
  state.ready = true;
  return info;
}

void Server::wait() {
  if (impl_->listener.joinable()) impl_->listener.join();
}

void Server::stop() {
  impl_->state.watch.cancel_all();
  impl_->http.stop();
}

}  // namespace mobilellm::server
