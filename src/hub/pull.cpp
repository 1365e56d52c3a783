#include "hub/pull.h"

#include "mobilellm/hub.h"

#include "hub/cache.h"
#include "hub/client.h"
#include "hub/download.h"

namespace mobilellm::hub {
namespace fs = std::filesystem;
namespace {

fs::path model_in(const fs::path& snapshot, const Selection& sel) {
  return sel.model_path.empty() ? snapshot : snapshot / sel.model_path;
}

}  // namespace

PullResult pull(const PullOptions& o) {
  RepoCache cache(o.cache_dir, o.ref.repo);
  HubClient client(o.endpoint, o.token, o.cancel);
  const RepoRevision rev = client.revision(o.ref.repo, o.revision);
  const Selection sel = select_files(o.ref.repo, rev.files, o.ref.selector, o.include);

  PullResult result{rev.commit, cache.snapshot(rev.commit), model_in(cache.snapshot(rev.commit), sel), sel.files, 0};
  if (o.events.begin) o.events.begin(rev.commit, sel.files.size());
  // Every blob first, the snapshot links after: a pull that stops halfway adds
  // no file to the snapshot, so a checkpoint there is never half present.
  std::vector<std::pair<std::string, std::string>> links;  // path, etag
  for (const auto& path : sel.files) {
    if (fs::exists(result.snapshot / path)) {  // follows the link: the blob is there too
      if (o.events.file_done) o.events.file_done(path, false);
      continue;
    }
    // Asked at the commit, so every file comes from the same one.
    const FileMetadata meta = client.file_metadata(o.ref.repo, rev.commit, path);
    DownloadEvents events;
    if (o.events.progress)
      events.progress = [&](uint64_t done, uint64_t total) { o.events.progress(path, done, total); };
    const bool downloaded = fetch_blob(client, cache, o.ref.repo, path, meta, events);
    links.emplace_back(path, meta.etag);
    if (downloaded) ++result.downloaded;
    if (o.events.file_done) o.events.file_done(path, downloaded);
  }
  for (const auto& [path, etag] : links) cache.link(rev.commit, path, etag);
  // Last: a pull that fails leaves the revision naming the snapshot it named before.
  cache.write_ref(o.revision, rev.commit);
  return result;
}

std::optional<PullResult> find_cached(const fs::path& cache_dir, const ModelRef& ref, const std::string& revision) {
  RepoCache cache(cache_dir, ref.repo);
  const auto commit = cache.commit_for(revision);
  if (!commit) return std::nullopt;
  const fs::path snapshot = cache.snapshot(*commit);
  std::vector<std::string> present;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(snapshot, ec), end; !ec && it != end; it.increment(ec))
    if (fs::is_regular_file(it->path())) present.push_back(it->path().lexically_relative(snapshot).generic_string());
  if (ec || present.empty()) return std::nullopt;
  try {
    const Selection sel = select_files(ref.repo, present, ref.selector);
    return PullResult{*commit, snapshot, model_in(snapshot, sel), sel.files, 0};
  } catch (const Error&) {
    return std::nullopt;  // what is cached is not the model the selector names
  }
}

}  // namespace mobilellm::hub

namespace mobilellm {

bool is_hub_model_name(const std::string& text) {
  hub::ModelRef parsed;
  return hub::parse_model_ref(text, parsed);
}

std::optional<std::filesystem::path> find_cached_model(const std::string& ref) {
  hub::ModelRef parsed;
  if (!hub::parse_model_ref(ref, parsed)) return std::nullopt;
  if (auto cached = hub::find_cached(hub::default_cache_dir(), parsed)) return cached->model;
  return std::nullopt;
}

std::filesystem::path hub_cache_dir() { return hub::default_cache_dir(); }

}  // namespace mobilellm
