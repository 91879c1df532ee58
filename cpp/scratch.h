// Per-thread scratch memory: 64-byte aligned, grows on demand, never shrinks, so a training loop in its
// steady state allocates nothing. Each user has its own slot so nested users never alias.
// AlignedArray is the same alignment for a one-off owner (the microkernel's peak measurement).
#pragma once

#include <cstddef>
#include <cstdlib>
#include <new>

namespace nntrain {

// Every buffer a microkernel loads with aligned instructions comes from here: a cache line, which is
// also the widest vector (AVX-512). std::vector and malloc give only 16 bytes.
constexpr std::size_t kAlignment = 64;

enum ScratchSlot : int {
  kScratchGemmA = 0,   // packed A block (one per thread)
  kScratchGemmB,       // packed B block (the calling thread's, shared with its team)
  kScratchGemmACopy,   // an A whose rows alias in L1, copied whole (the calling thread's, shared by the team)
  kScratchGemmTile,    // a thread's own B panels (GEMMs whose M fits one block)
  kScratchGemmSplitK,  // partial products of a GEMM split along K (the calling thread's, shared by the team)
  kScratchIm2col,      // column matrix of one image
  kScratchConvTmp,     // conv2d: a group's output or output gradient in GEMM layout
  kScratchConvPartial, // conv2d: the per-group weight gradients (the calling thread's, shared by the team)
  kScratchWinogradU,   // Winograd conv: the transformed weights (the calling thread's, shared by the team)
  kScratchWinogradV,   // Winograd conv: a chunk's transformed input
  kScratchWinogradM,   // Winograd conv: a chunk's products, or the transformed output gradient
  kScratchWinogradDV,  // Winograd conv: a chunk's transformed input gradient
  kScratchWinogradPartial,  // Winograd conv: per-group weight gradients (the calling thread's, shared)
  kScratchWinogradLanes,    // Winograd conv: a chunk of images, outputs or gradients in 16-image lanes
  kScratchWinogradVT,       // Winograd conv: a chunk's transformed input transposed, (16, columns, C padded)
  kScratchWinogradFilters,  // Winograd conv: one output channel's 3x3 filters (or their gradients), (9, C)
  kScratchNormPool,   // 2x2 max-pool (alone or after BatchNorm+ReLU): a plane of window choices and a
                       // normalised plane, or a channel's gated gradients, picks and dy planes
  kScratchPoolCorners, // 2x2 max-pool: the windows' corners (the calling thread's, shared by the team)
  kScratchDenseChain,  // a dense chain's step: every op's output, the probabilities and two gradient buffers
  kScratchCount
};

void* thread_scratch_bytes(ScratchSlot slot, std::size_t bytes);

template <class T>
T* thread_scratch(ScratchSlot slot, std::size_t count) {
  return static_cast<T*>(thread_scratch_bytes(slot, count * sizeof(T)));
}

void* aligned_bytes(std::size_t bytes);  // kAlignment-aligned, at least one line; throws std::bad_alloc

// count values of T, each set to `fill`, starting on a kAlignment boundary; freed with the object.
template <class T>
class AlignedArray {
 public:
  AlignedArray(std::size_t count, T fill) : data_(static_cast<T*>(aligned_bytes(count * sizeof(T)))) {
    for (std::size_t i = 0; i < count; ++i) data_[i] = fill;
  }
  ~AlignedArray() { std::free(data_); }
  AlignedArray(const AlignedArray&) = delete;
  AlignedArray& operator=(const AlignedArray&) = delete;
  T* data() { return data_; }

 private:
  T* data_;
};

}  // namespace nntrain
