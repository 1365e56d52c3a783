#include "hub/client.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "hub/cache.h"

namespace mobilellm::hub {
namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

// A path the repo lists must stay inside the snapshot folder.
void check_repo_path(const std::string& path) {
  bool ok = !path.empty() && path.front() != '/' && path.find('\\') == std::string::npos &&
            path.find('\0') == std::string::npos;
  std::istringstream parts(path);
  for (std::string part; ok && std::getline(parts, part, '/');) ok = !part.empty() && part != "." && part != "..";
  if (ok && path.back() == '/') ok = false;
  if (!ok) throw Error("the Hub listed a file with an unsafe path: \"" + path + "\"");
}

// hf_hub_url(): each segment percent-encoded, the slashes kept.
std::string escape_path(const std::string& path) {
  std::string out;
  std::istringstream parts(path);
  for (std::string part; std::getline(parts, part, '/');) out += (out.empty() ? "" : "/") + url_escape(part);
  return out;
}

// ETags name blob files, so only plain characters are accepted.
void check_etag(const std::string& etag, const std::string& url) {
  bool ok = !etag.empty() && etag.size() <= 200 && etag != "." && etag != "..";
  for (char c : etag) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.');
  if (!ok) throw Error(url + ": the ETag \"" + etag + "\" cannot name a cache file");
}

// _normalize_etag(): drop a weak marker and the quotes.
std::string normalize_etag(std::string etag) {
  if (etag.rfind("W/", 0) == 0) etag = etag.substr(2);
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') etag = etag.substr(1, etag.size() - 2);
  return etag;
}

uint64_t parse_size(const std::string& text, const std::string& url) {
  uint64_t v = 0;
  bool ok = !text.empty() && text.size() <= 19;
  for (char ch : text) {
    ok = ok && ch >= '0' && ch <= '9';
    v = v * 10 + static_cast<uint64_t>(ch - '0');
  }
  if (!ok) throw Error(url + ": the file size \"" + text + "\" is not a number");
  return v;
}

bool transient_status(long status) { return status == 429 || status >= 500; }

std::string http_error_message(const HttpResponse& r, const std::string& endpoint, const std::string& repo,
                               const std::string& what, bool have_token) {
  const std::string page = endpoint + "/" + repo;
  const std::string code = r.header("x-error-code");
  std::string message;
  if ((r.status == 401 || r.status == 404) && code == "RepoNotFound") {
    // The Hub answers 401 for a repo it will not name to an anonymous caller: missing or private.
    message = repo + ": no such model repo on " + endpoint +
              (have_token ? "" : " (or it is private: pass --token or set HF_TOKEN)");
  } else if (r.status == 401) {
    message = have_token ? repo +
                               ": the Hub refused the token (401): check --token / HF_TOKEN; if the repo is gated, "
                               "accept the license at " +
                               page
                         : repo + " is gated: accept the license at " + page + " and pass --token or set HF_TOKEN";
  } else if (r.status == 403) {
    message = repo + ": the token has no access to this gated repo: request access on the model page " + page;
  } else if (r.status == 404) {
    if (code == "RevisionNotFound")
      message = repo + ": " + what + " not found (no such revision)";
    else if (code == "EntryNotFound")
      message = repo + ": " + what + " not found in the repo";
    else
      message = repo + ": not found on " + endpoint + " (" + what + "); check the name and revision";
  } else {
    message = repo + ": " + what + ": HTTP " + std::to_string(r.status);
  }
  const std::string hub_says = r.header("x-error-message");
  if (!hub_says.empty()) message += " (the Hub says: " + hub_says + ")";
  return message;
}

}  // namespace

std::string default_endpoint() {
  std::string e = env("HF_ENDPOINT").empty() ? "https://huggingface.co" : env("HF_ENDPOINT");
  while (!e.empty() && e.back() == '/') e.pop_back();
  return e;
}

bool offline_mode() {
  std::string v = env("HF_HUB_OFFLINE").empty() ? env("TRANSFORMERS_OFFLINE") : env("HF_HUB_OFFLINE");
  for (char& c : v) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return v == "1" || v == "ON" || v == "YES" || v == "TRUE";
}

std::string default_token() {
  for (const char* name : {"HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"})
    if (!trim(env(name)).empty()) return trim(env(name));
  std::ifstream in(env("HF_TOKEN_PATH").empty() ? hf_home() / "token" : expand_user(env("HF_TOKEN_PATH")));
  std::stringstream text;
  text << in.rdbuf();
  return trim(text.str());
}

double backoff_seconds(int attempt) { return static_cast<double>(1 << std::clamp(attempt, 0, 5)); }

void sleep_unless_cancelled(double seconds, const std::atomic<bool>* cancel) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < until) {
    if (cancel && cancel->load()) throw Interrupted();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (cancel && cancel->load()) throw Interrupted();
}

HubClient::HubClient(std::string endpoint, std::string token, const std::atomic<bool>* cancel)
    : endpoint_(std::move(endpoint)), token_(std::move(token)), cancel_(cancel) {}

HttpResponse HubClient::request(HttpRequest req, const std::string& repo, const std::string& what, bool retry,
                                const BodySink& sink) const {
  // The token goes to the Hub's own origin only, never to a storage host a redirect names.
  if (!token_.empty() && url_origin(req.url) == url_origin(endpoint_))
    req.headers.push_back("Authorization: Bearer " + token_);
  req.cancel = cancel_;
  constexpr int kAttempts = 5;
  for (int attempt = 0;; ++attempt) {
    HttpResponse r;
    try {
      r = http_request(req, sink);
    } catch (const TransportError& e) {
      if (e.stopped && cancel_ && cancel_->load()) throw Interrupted();
      // A body already handed to the sink cannot be taken back: its owner resumes.
      if (sink) throw Error(e.what());
      if (!retry || attempt + 1 >= kAttempts)
        throw Error(std::string(e.what()) + " (HF_ENDPOINT is " + endpoint_ +
                    "; check the network and proxy, or set HF_HUB_OFFLINE=1 to use the cache alone)");
      sleep_unless_cancelled(backoff_seconds(attempt), cancel_);
      continue;
    }
    if (retry && transient_status(r.status) && attempt + 1 < kAttempts) {
      double wait = backoff_seconds(attempt);
      const std::string retry_after = r.header("retry-after");  // strtod's end points into it
      if (r.status == 429 && !retry_after.empty()) {
        char* end = nullptr;
        const double s = std::strtod(retry_after.c_str(), &end);
        if (end && *end == '\0' && s >= 0) wait = std::min(s, 300.0);
      }
      sleep_unless_cancelled(wait, cancel_);
      continue;
    }
    if (r.status >= 400)
      throw HubError(http_error_message(r, endpoint_, repo, what, !token_.empty()), r.status, r.header("x-error-code"));
    return r;
  }
}

RepoRevision HubClient::revision(const std::string& repo, const std::string& revision) const {
  HttpRequest req;
  req.url = endpoint_ + "/api/models/" + repo + "/revision/" + url_escape(revision);
  HttpResponse r;
  for (int redirects = 0;; ++redirects) {
    r = request(req, repo, "revision \"" + revision + "\"", /*retry=*/true);
    if (r.status / 100 != 3 || r.header("location").empty()) break;
    // A renamed repo redirects to its new name; only redirects on the Hub's origin are followed.
    const std::string target = resolve_url(req.url, r.header("location"));
    if (url_origin(target) != url_origin(endpoint_) || redirects == 10)
      throw Error(req.url + ": redirected to " + target + ", which is not on HF_ENDPOINT (" + endpoint_ + ")");
    req.url = target;
  }
  if (r.status != 200) throw Error(req.url + ": unexpected HTTP " + std::to_string(r.status));
  RepoRevision out;
  try {
    const auto info = nlohmann::json::parse(r.body);
    out.commit = info.at("sha").get<std::string>();
    for (const auto& sibling : info.at("siblings")) out.files.push_back(sibling.at("rfilename").get<std::string>());
  } catch (const nlohmann::json::exception& e) {
    throw Error(req.url + ": not the Hub's model info (" + e.what() + "); does HF_ENDPOINT point to a Hub?");
  }
  if (!is_commit_hash(out.commit)) throw Error(req.url + ": \"" + out.commit + "\" is not a commit id");
  for (const auto& f : out.files) check_repo_path(f);
  return out;
}

FileMetadata HubClient::file_metadata(const std::string& repo, const std::string& revision,
                                      const std::string& path) const {
  HttpRequest req;
  req.method = "HEAD";
  req.url = endpoint_ + "/" + repo + "/resolve/" + url_escape(revision) + "/" + escape_path(path);
  req.headers = {"Accept-Encoding: identity"};  // the size of the file, not of a compressed body
  const std::string what = "\"" + path + "\" at revision \"" + revision + "\"";
  for (int redirects = 0; redirects < 10; ++redirects) {
    HttpResponse r = request(req, repo, what, /*retry=*/true);
    const bool redirect = r.status / 100 == 3 && !r.header("location").empty();
    std::string download_url = req.url;
    if (redirect) {
      download_url = resolve_url(req.url, r.header("location"));
      if (url_origin(download_url) == url_origin(endpoint_)) {  // e.g. a renamed repo: follow on the Hub
        req.url = download_url;
        continue;
      }
      // Else a storage host: the metadata is on this response, the bytes are there.
    }
    FileMetadata m;
    m.download_url = download_url;
    m.commit = r.header("x-repo-commit");
    m.lfs = !r.header("x-linked-etag").empty();
    m.etag = normalize_etag(m.lfs ? r.header("x-linked-etag") : r.header("etag"));
    // A redirect's Content-Length is that of its own (empty) body.
    const std::string size = !r.header("x-linked-size").empty() ? r.header("x-linked-size")
                             : redirect                         ? ""
                                                                : r.header("content-length");
    if (!size.empty()) m.size = parse_size(size, req.url);
    if (!is_commit_hash(m.commit)) throw Error(req.url + ": no X-Repo-Commit header; does HF_ENDPOINT point to a Hub?");
    check_etag(m.etag, req.url);
    return m;
  }
  throw Error(req.url + ": more than 10 redirects");
}

}  // namespace mobilellm::hub
