// Read bandwidth of this machine's memory with N threads, for roofline numbers:
//   membw [threads] [MiB]   (defaults: all hardware threads, 1024 MiB)
// Each thread sums its own contiguous slice; the best of several passes is
// printed, since other processes share the memory bus.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "runtime/aligned_buffer.h"
#include "runtime/thread_pool.h"
#include "runtime/timer.h"

int main(int argc, char** argv) {
  using namespace mobilellm;
  const int threads = argc > 1 ? std::atoi(argv[1]) : default_thread_count();
  const size_t mib = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 1024;
  if (threads < 1 || mib < 1) {
    std::fprintf(stderr, "usage: membw [threads >= 1] [MiB >= 1]\n");
    return 2;
  }
  const size_t words = (mib << 20) / sizeof(uint64_t);
  AlignedBuffer<uint64_t> buffer(words);  // zeroed: every page is really mapped before timing
  for (size_t i = 0; i < words; i += 512) buffer[i] = i;
  ThreadPool pool(threads);
  std::vector<uint64_t> sums(static_cast<size_t>(threads));
  double best = 0;
  for (int pass = 0; pass < 7; ++pass) {
    Timer timer;
    pool.split(static_cast<int64_t>(words), 64, [&](int64_t begin, int64_t end, int thread) {
      // Eight independent sums keep enough loads in flight to be limited by memory, not latency.
      uint64_t s[8] = {};
      for (int64_t i = begin; i + 8 <= end; i += 8)
        for (int j = 0; j < 8; ++j) s[j] += buffer[static_cast<size_t>(i + j)];
      sums[static_cast<size_t>(thread)] = s[0] + s[1] + s[2] + s[3] + s[4] + s[5] + s[6] + s[7];
    });
    double gbps = static_cast<double>(words * sizeof(uint64_t)) / timer.seconds() / 1e9;
    if (gbps > best) best = gbps;
  }
  uint64_t check = 0;
  for (uint64_t s : sums) check += s;
  std::printf("read bandwidth: %.1f GB/s with %d thread%s over %zu MiB (best of 7; checksum %llu)\n", best, threads,
              threads == 1 ? "" : "s", mib, static_cast<unsigned long long>(check));
  return 0;
}
