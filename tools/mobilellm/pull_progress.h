#pragma once
// Downloads for `mobilellm pull` and for `-m ORG/NAME` on the other commands:
// the progress shown on stderr, and Ctrl-C turned into a clean stop.
#include <string>

#include "hub/pull.h"

namespace mobilellm::cli {

// Runs the pull with a progress bar per file on a terminal (bytes, rate, ETA),
// plain lines otherwise, nothing when `quiet`. Ctrl-C or SIGTERM stops it: the
// partial file stays hidden as blobs/<etag>.incomplete for the next pull to
// resume, and the process ends by that signal.
hub::PullResult pull_with_progress(hub::PullOptions options, bool quiet);

}  // namespace mobilellm::cli
