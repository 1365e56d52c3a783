#include "runtime/reserved_memory.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <new>

namespace mobilellm {

ReservedMemory::ReservedMemory(size_t bytes) : bytes_(bytes) {
  if (bytes == 0) return;
  // Anonymous mappings read as zero and take memory only when written.
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  data_ = static_cast<uint8_t*>(p);
}

void ReservedMemory::release(size_t offset, size_t bytes) {
  if (!data_ || offset >= bytes_) return;
  const size_t end = offset + std::min(bytes, bytes_ - offset);
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  const size_t first = (offset + page - 1) / page * page;
  const size_t last = end == bytes_ ? (end + page - 1) / page * page : end / page * page;  // the mapping's own tail
  // MADV_DONTNEED, not MADV_FREE: the pages leave the resident set now, not
  // only under memory pressure. Advice that fails leaves the memory as it was.
  if (first < last) madvise(data_ + first, last - first, MADV_DONTNEED);
}

ReservedMemory::~ReservedMemory() {
  if (data_) munmap(data_, bytes_);
}

}  // namespace mobilellm
