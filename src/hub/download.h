#pragma once
// One file's bytes into the cache: blobs/<etag>.incomplete, resumed with a
// Range request from what is already on disk (in this run or a killed one),
// checked against the Hub's sha256, then renamed to blobs/<etag>.
#include <cstdint>
#include <functional>
#include <string>

#include "hub/cache.h"
#include "hub/client.h"

namespace mobilellm::hub {

struct DownloadEvents {
  // Bytes of the file on disk so far (resumed bytes included) and its size when known.
  std::function<void(uint64_t done, uint64_t total)> progress;
};

// Leaves blobs/<meta.etag> complete and verified, or throws; false when the
// blob was already there. `path` names the file in messages. Holds the blob's
// lock while it works, so a second process pulling the same blob waits and
// then finds it done.
bool fetch_blob(const HubClient& client, const RepoCache& cache, const std::string& repo, const std::string& path,
                const FileMetadata& meta, const DownloadEvents& events);

}  // namespace mobilellm::hub
