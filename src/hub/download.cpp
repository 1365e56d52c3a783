#include "hub/download.h"

#include <openssl/evp.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

namespace mobilellm::hub {
namespace fs = std::filesystem;
namespace {

// The sha256 of the bytes written so far, as lower-case hex at the end.
class Sha256 {
 public:
  Sha256() { reset(); }
  void reset() {
    if (!EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr)) throw Error("OpenSSL: sha256 unavailable");
  }
  void update(const char* data, size_t n) { EVP_DigestUpdate(ctx_.get(), data, n); }
  std::string hex() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx_.get(), digest, &len);
    static const char* kHex = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < len; ++i) {
      out += kHex[digest[i] >> 4];
      out += kHex[digest[i] & 15];
    }
    return out;
  }

 private:
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx_{EVP_MD_CTX_new(), EVP_MD_CTX_free};
};

bool is_sha256(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

using File = std::unique_ptr<FILE, int (*)(FILE*)>;

// The partial file opened for appending, its bytes so far fed to `hash`.
File open_partial(const fs::path& partial, Sha256& hash, uint64_t& have) {
  File f(std::fopen(partial.c_str(), "a+b"), std::fclose);
  if (!f) throw Error(partial.string() + ": cannot open: " + std::strerror(errno));
  std::rewind(f.get());
  char buf[1 << 16];
  have = 0;
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, f.get())) > 0;) {
    hash.update(buf, n);
    have += n;
  }
  if (std::ferror(f.get())) throw Error(partial.string() + ": cannot read: " + std::strerror(errno));
  return f;
}

void truncate_partial(FILE* f, const fs::path& partial, Sha256& hash, uint64_t& have) {
  if (std::fflush(f) != 0 || ftruncate(fileno(f), 0) != 0)
    throw Error(partial.string() + ": cannot truncate: " + std::strerror(errno));
  hash.reset();
  have = 0;
}

}  // namespace

bool fetch_blob(const HubClient& client, const RepoCache& cache, const std::string& repo, const std::string& path,
                const FileMetadata& meta, const DownloadEvents& events) {
  if (meta.lfs && !is_sha256(meta.etag))
    throw Error(repo + ": \"" + path + "\": the Hub's X-Linked-Etag \"" + meta.etag +
                "\" is not a sha256, so the file cannot be verified");
  const fs::path blob = cache.blob(meta.etag);
  fs::create_directories(blob.parent_path());
  FileLock lock(cache.lock_file(meta.etag), client.cancel_flag());
  if (fs::exists(blob)) return false;  // perhaps another pull finished it while we waited

  const fs::path partial = blob.string() + ".incomplete";
  Sha256 hash;
  uint64_t have = 0;
  File f = open_partial(partial, hash, have);
  const uint64_t total = meta.size.value_or(0);
  if (meta.size && have > total) truncate_partial(f.get(), partial, hash, have);
  if (events.progress) events.progress(have, total);

  constexpr int kAttempts = 5;
  int failures = 0, redirects = 0;
  std::string url = meta.download_url;
  while (!meta.size || have < total) {
    HttpRequest req;
    req.url = url;
    req.headers = {"Accept-Encoding: identity"};
    if (have > 0) req.headers.push_back("Range: bytes=" + std::to_string(have) + "-");
    const uint64_t before = have;
    bool first = true, overflow = false;
    auto sink = [&](long status, const char* data, size_t n) {
      if (first && status == 200 && have > 0) truncate_partial(f.get(), partial, hash, have);  // Range ignored
      first = false;
      if (meta.size && have + n > total) {
        overflow = true;
        return false;
      }
      if (std::fwrite(data, 1, n, f.get()) != n) return false;
      hash.update(data, n);
      have += n;
      if (events.progress) events.progress(have, total);
      return true;
    };
    try {
      const HttpResponse r = client.request(req, repo, "\"" + path + "\"", /*retry=*/true, sink);
      if (std::ferror(f.get())) throw Error(partial.string() + ": cannot write: " + std::strerror(errno));
      if (r.status / 100 == 3 && !r.header("location").empty()) {
        // A storage host may redirect again (a CDN to its bucket); the token stays on the Hub's origin.
        if (++redirects > 10)
          throw Error(repo + ": \"" + path + "\": more than 10 redirects from " + meta.download_url);
        url = resolve_url(url, r.header("location"));
        continue;
      }
      if (r.status / 100 != 2) throw Error(url + ": unexpected HTTP " + std::to_string(r.status));
      if (!meta.size || have == total) break;  // without a size, the response's end is the file's end
      if (have == before) throw Error(url + ": the response ended before the file did");
    } catch (const HubError& e) {
      if (e.status != 416 || have == 0) throw;
      truncate_partial(f.get(), partial, hash, have);  // what is on disk does not fit the file: start over
    } catch (const Interrupted&) {
      throw;
    } catch (const Error& e) {
      if (std::ferror(f.get())) throw Error(partial.string() + ": cannot write: " + std::strerror(errno));
      if (overflow) {
        f.reset();
        fs::remove(partial);
        throw Error(repo + ": \"" + path + "\": the server sent more than the " + std::to_string(total) +
                    " bytes the Hub announced; the download was deleted");
      }
      if (have > before) failures = 0;  // progress was made: the connection is worth retrying
      if (++failures >= kAttempts)
        throw Error(std::string(e.what()) + "; gave up after " + std::to_string(kAttempts) +
                    " attempts (run the same command again to resume from byte " + std::to_string(have) + ")");
      std::fprintf(stderr, "warning: %s: %s; resuming from byte %llu\n", path.c_str(), e.what(),
                   static_cast<unsigned long long>(have));
    }
    if (have == before) sleep_unless_cancelled(backoff_seconds(failures - 1), client.cancel_flag());
  }
  if (std::fflush(f.get()) != 0 || fsync(fileno(f.get())) != 0)
    throw Error(partial.string() + ": cannot write: " + std::strerror(errno));
  f.reset();

  if (meta.lfs) {
    const std::string got = hash.hex();
    if (got != meta.etag) {
      fs::remove(partial);  // a corrupt file must not be resumed from or loaded
      throw Error(repo + ": \"" + path + "\" is corrupt: its sha256 is " + got + " but the Hub says " + meta.etag +
                  "; the download was deleted, nothing was added to the cache");
    }
  }
  fs::permissions(partial,
                  fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read);
  fs::rename(partial, blob);
  return true;
}

}  // namespace mobilellm::hub
