#include "scratch.h"

#include <algorithm>
#include <cstdlib>
#include <new>

namespace nntrain {

namespace {
struct ScratchBuffer {
  void* data = nullptr;
  std::size_t bytes = 0;
  ~ScratchBuffer() { std::free(data); }
};
thread_local ScratchBuffer t_scratch[kScratchCount];
}  // namespace

void* aligned_bytes(std::size_t bytes) {
  // aligned_alloc wants a size that is a multiple of the alignment.
  const std::size_t rounded = (std::max<std::size_t>(bytes, 1) + kAlignment - 1) & ~(kAlignment - 1);
  void* p = std::aligned_alloc(kAlignment, rounded);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

void* thread_scratch_bytes(ScratchSlot slot, std::size_t bytes) {
  ScratchBuffer& buf = t_scratch[slot];
  if (bytes > buf.bytes) {
    std::free(buf.data);
    buf.data = nullptr;
    buf.bytes = 0;
    // Grow by a quarter more than asked, so that small growth steps do not reallocate every call.
    const std::size_t grown = bytes + (bytes >> 2);
    buf.data = aligned_bytes(grown);
    buf.bytes = grown;
  }
  return buf.data;
}

}  // namespace nntrain
