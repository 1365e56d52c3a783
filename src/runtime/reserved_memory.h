#pragma once
// Zeroed memory reserved as address space: pages are touched, and count in the
// resident set, only as they are written, so a buffer sized for a whole
// context costs nothing until the context grows and is never copied.
#include <cstddef>
#include <cstdint>
#include <utility>

namespace mobilellm {

class ReservedMemory {
 public:
  ReservedMemory() = default;
  explicit ReservedMemory(size_t bytes);  // throws std::bad_alloc
  ~ReservedMemory();
  ReservedMemory(ReservedMemory&& o) noexcept
      : data_(std::exchange(o.data_, nullptr)), bytes_(std::exchange(o.bytes_, 0)) {}
  ReservedMemory& operator=(ReservedMemory&& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(bytes_, o.bytes_);
    return *this;
  }
  ReservedMemory(const ReservedMemory&) = delete;
  ReservedMemory& operator=(const ReservedMemory&) = delete;

  uint8_t* data() const { return data_; }
  size_t bytes() const { return bytes_; }
  // Gives the whole pages inside [offset, offset + bytes) back to the system:
  // they leave the resident set and read as zero again. The partial pages at
  // either end are kept, so bytes next to the range stay as they are.
  void release(size_t offset, size_t bytes);

 private:
  uint8_t* data_ = nullptr;
  size_t bytes_ = 0;
};

}  // namespace mobilellm
