#include "runtime/reserved_memory.h"

#include <sys/mman.h>

#include <new>

namespace mobilellm {

ReservedMemory::ReservedMemory(size_t bytes) : bytes_(bytes) {
  if (bytes == 0) return;
  // Anonymous mappings read as zero and take memory only when written.
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  data_ = static_cast<uint8_t*>(p);
}

ReservedMemory::~ReservedMemory() {
  if (data_) munmap(data_, bytes_);
}

}  // namespace mobilellm
