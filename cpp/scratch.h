// Per-thread scratch memory: 64-byte aligned, grows on demand, never shrinks, so a training loop in its
// steady state allocates nothing. Each user has its own slot so nested users never alias.
#pragma once

#include <cstddef>

namespace nntrain {

enum ScratchSlot : int {
  kScratchGemmA = 0,   // packed A block (one per thread)
  kScratchGemmB,       // packed B block (the calling thread's, shared with its team)
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
  kScratchCount
};

void* thread_scratch_bytes(ScratchSlot slot, std::size_t bytes);

template <class T>
T* thread_scratch(ScratchSlot slot, std::size_t count) {
  return static_cast<T*>(thread_scratch_bytes(slot, count * sizeof(T)));
}

}  // namespace nntrain
