#pragma once
// One HTTP(S) request through libcurl: TLS verified, proxies from the usual
// environment variables (http_proxy, https_proxy, no_proxy), redirects NOT
// followed, so the caller decides which host may see which header.
#include <atomic>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace mobilellm::hub {

struct HttpRequest {
  std::string method = "GET";  // GET or HEAD
  std::string url;
  std::vector<std::string> headers;           // "Name: value"
  const std::atomic<bool>* cancel = nullptr;  // when set and true, the transfer stops (Ctrl-C)
};

struct HttpResponse {
  long status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased; the last value of a repeated header
  std::string body;                            // error bodies, and bodies with no sink

  // The header's value, or "" when absent.
  std::string header(const std::string& lower_name) const;
};

// Receives a 2xx body in pieces, with the status (200, or 206 for a Range);
// returns false to stop the transfer.
using BodySink = std::function<bool(long status, const char* data, size_t size)>;

// A transport failure (no HTTP status: DNS, refused, reset, timeout, a body cut
// short), or a transfer stopped by the sink or the cancel flag (`stopped`).
class TransportError : public std::runtime_error {
 public:
  TransportError(const std::string& message, bool stopped) : std::runtime_error(message), stopped(stopped) {}
  bool stopped;
};

// Performs the request; the 2xx body goes to `sink` when given, else into
// response.body. Throws TransportError.
HttpResponse http_request(const HttpRequest& request, const BodySink& sink = {});

// "scheme://host:port" of a URL with the scheme's default port filled in, for
// comparing origins; throws mobilellm::Error on a URL libcurl cannot parse.
std::string url_origin(const std::string& url);
// `location` (absolute or relative, from a Location header) resolved against `base`.
std::string resolve_url(const std::string& base, const std::string& location);
// Percent-encodes one URL path segment (a revision such as "refs/pr/1").
std::string url_escape(const std::string& text);

}  // namespace mobilellm::hub
