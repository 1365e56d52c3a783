#pragma once
// The Hugging Face Hub's HTTP protocol as huggingface_hub speaks it: the
// revision API for the commit and file list, HEAD /resolve for each file's
// ETag, size and storage location, and its error headers turned into messages
// that say what to do.
#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hub/http.h"
#include "runtime/error.h"

namespace mobilellm::hub {

// HF_ENDPOINT (default https://huggingface.co), without a trailing slash.
std::string default_endpoint();
// HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE) set to 1/ON/YES/TRUE.
bool offline_mode();
// The token of huggingface_hub's lookup order: HF_TOKEN, HUGGING_FACE_HUB_TOKEN,
// then the file HF_TOKEN_PATH (else HF_HOME/token, else ~/.cache/huggingface/token).
// Empty when none.
std::string default_token();

// An HTTP error from the Hub, already worded for the user.
class HubError : public Error {
 public:
  HubError(const std::string& message, long status, std::string code)
      : Error(message), status(status), code(std::move(code)) {}
  long status;
  std::string code;  // X-Error-Code: RepoNotFound, RevisionNotFound, EntryNotFound, GatedRepo, …
};

struct RepoRevision {
  std::string commit;              // 40 hex digits
  std::vector<std::string> files;  // repo paths, checked to stay inside the repo
};

struct FileMetadata {
  std::string commit;
  std::string etag;  // X-Linked-Etag (LFS: the sha256) or ETag, without quotes or W/
  std::optional<uint64_t> size;
  std::string download_url;  // where the bytes are: the Hub, or the storage host it redirects to
  bool lfs = false;          // the Hub named the content's sha256 (X-Linked-Etag)
};

class HubClient {
 public:
  HubClient(std::string endpoint, std::string token, const std::atomic<bool>* cancel);

  const std::string& endpoint() const { return endpoint_; }
  const std::atomic<bool>* cancel_flag() const { return cancel_; }
  // GET /api/models/{repo}/revision/{revision}
  RepoRevision revision(const std::string& repo, const std::string& revision) const;
  // HEAD /{repo}/resolve/{revision}/{path}, following redirects that stay on the Hub's host.
  FileMetadata file_metadata(const std::string& repo, const std::string& revision, const std::string& path) const;
  // A request with Authorization only when `url` is on the Hub's own origin;
  // when `retry`, retried with back-off on 5xx and 429 (Retry-After honoured),
  // and on transport errors unless a sink takes the body. HTTP errors ≥ 400 are
  // thrown as HubError naming `what`.
  HttpResponse request(HttpRequest request, const std::string& repo, const std::string& what, bool retry,
                       const BodySink& sink = {}) const;

 private:
  std::string endpoint_, token_;
  const std::atomic<bool>* cancel_;
};

// Seconds to wait before retry number `attempt` (0-based): 1, 2, 4, 8 …
double backoff_seconds(int attempt);
// Sleeps, waking early (and throwing Interrupted) when the cancel flag is set.
void sleep_unless_cancelled(double seconds, const std::atomic<bool>* cancel);

}  // namespace mobilellm::hub
