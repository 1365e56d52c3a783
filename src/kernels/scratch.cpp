#include "kernels/scratch.h"

#include "runtime/aligned_buffer.h"

namespace mobilellm::kernels {

float* thread_scratch(size_t n_floats) {
  thread_local AlignedBuffer<float> buffer;
  if (buffer.size() < n_floats) buffer.resize(n_floats);
  return buffer.data();
}

}  // namespace mobilellm::kernels
