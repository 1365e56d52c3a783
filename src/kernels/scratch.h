#pragma once
// Per-thread scratch for the GEMM's packed panels. Each thread owns one
// 64-byte aligned buffer that only grows and lives as long as the thread;
// pool threads are persistent, so after the first prefill packing never
// allocates. Compiled without ISA flags, outside the per-ISA files.
#include <cstddef>

namespace mobilellm::kernels {

// At least n_floats floats, valid until this thread's next call.
float* thread_scratch(size_t n_floats);

}  // namespace mobilellm::kernels
