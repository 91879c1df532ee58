#include "dropout.h"

#include <algorithm>
#include <cmath>

#include "dispatch.h"

namespace nntrain {

namespace {

// Keep element i when its uniform 24-bit draw is >= p * 2^24: probability 1 - p to 2^-24.
inline std::uint32_t threshold_of(double p) { return static_cast<std::uint32_t>(std::llround(p * 16777216.0)); }

template <class T>
inline T scale_of(double p) { return p < 1.0 ? T(1.0 / (1.0 - p)) : T(0); }

// Fixed chunks, each handed to the kernels of the ISA in use: an element's mask depends on (seed, its index)
// only, so neither the chunking nor the thread count changes a result.
template <class T>
void dropout_apply(T* out, const T* in, index_t n, double p, std::uint64_t seed, bool accumulate) {
  const ElementwiseKernels<T>& k = elementwise_kernels<T>();
  const std::uint32_t threshold = threshold_of(p);
  const T scale = scale_of<T>(p);
  constexpr index_t kChunk = 16384;
  parallel_for(ceil_div(n, kChunk), n, [&](index_t c) {
    const index_t b = c * kChunk, e = std::min(n, b + kChunk);
    k.dropout(out + b, in + b, e - b, seed, std::uint64_t(b), threshold, scale, accumulate);
  });
}

}  // namespace

template <class T>
void dropout_forward(T* out, const T* x, index_t n, double p, std::uint64_t seed) {
  dropout_apply(out, x, n, p, seed, /*accumulate=*/false);
}

template <class T>
void dropout_backward(T* dinp, const T* dout, index_t n, double p, std::uint64_t seed, bool accumulate) {
  dropout_apply(dinp, dout, n, p, seed, accumulate);
}

template void dropout_forward<float>(float*, const float*, index_t, double, std::uint64_t);
template void dropout_forward<double>(double*, const double*, index_t, double, std::uint64_t);
template void dropout_backward<float>(float*, const float*, index_t, double, std::uint64_t, bool);
template void dropout_backward<double>(double*, const double*, index_t, double, std::uint64_t, bool);

}  // namespace nntrain
