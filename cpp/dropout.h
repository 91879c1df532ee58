// Dropout as a forward/backward pair of the same shape, with the mask regenerated from the seed rather
// than stored: element i is kept when its counter-based uniform number (counter_rng.h) is >= p, so the
// mask depends on (seed, i) only, never on the thread count.
//
//   dropout_forward (out,  x,    n, p, seed)   out  = keep ? x / (1 - p) : 0
//   dropout_backward(dinp, dout, n, p, seed, accumulate)   dinp (+)= keep ? dout / (1 - p) : 0
//
// The backward writes dinp, or adds to it when accumulating (a new gradient needs no zero-fill pass). Both
// run in fixed chunks on the elementwise kernels of the ISA in use (kernels/elementwise.h), whose AVX-512
// build vectorises the 64-bit hash.
// p = 1 drops everything (scale 0, as PyTorch).
#pragma once

#include <cstdint>

#include "common.h"

namespace nntrain {

template <class T>
void dropout_forward(T* out, const T* x, index_t n, double p, std::uint64_t seed);
template <class T>
void dropout_backward(T* dinp, const T* dout, index_t n, double p, std::uint64_t seed, bool accumulate);

}  // namespace nntrain
