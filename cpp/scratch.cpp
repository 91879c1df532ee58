#include "scratch.h"

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

void* thread_scratch_bytes(ScratchSlot slot, std::size_t bytes) {
  ScratchBuffer& buf = t_scratch[slot];
  if (bytes > buf.bytes) {
    std::free(buf.data);
    // Round up so that small growth steps do not reallocate every call.
    std::size_t rounded = ((bytes + (bytes >> 2)) + 63) & ~std::size_t(63);
    buf.data = std::aligned_alloc(64, rounded);
    if (buf.data == nullptr) {
      buf.bytes = 0;
      throw std::bad_alloc();
    }
    buf.bytes = rounded;
  }
  return buf.data;
}

}  // namespace nntrain
