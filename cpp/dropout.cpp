#include "dropout.h"

#include <cmath>

#include "counter_rng.h"

namespace nntrain {

namespace {

// Keep element i when its uniform 24-bit draw is >= p * 2^24: probability 1 - p to 2^-24.
inline std::uint32_t threshold_of(double p) { return static_cast<std::uint32_t>(std::llround(p * 16777216.0)); }

template <class T>
inline T scale_of(double p) { return p < 1.0 ? T(1.0 / (1.0 - p)) : T(0); }

}  // namespace

template <class T>
void dropout_forward(T* out, const T* x, index_t n, double p, std::uint64_t seed) {
  const std::uint32_t threshold = threshold_of(p);
  const T scale = scale_of<T>(p);
#pragma omp parallel for schedule(static) num_threads(num_threads()) if(parallel_worth(n))
  for (index_t i = 0; i < n; ++i) out[i] = counter_uniform24(seed, std::uint64_t(i)) >= threshold ? x[i] * scale : T(0);
}

template <class T>
void dropout_backward(T* dinp, const T* dout, index_t n, double p, std::uint64_t seed, bool accumulate) {
  const std::uint32_t threshold = threshold_of(p);
  const T scale = scale_of<T>(p);
#pragma omp parallel for schedule(static) num_threads(num_threads()) if(parallel_worth(n))
  for (index_t i = 0; i < n; ++i) {
    const T d = counter_uniform24(seed, std::uint64_t(i)) >= threshold ? dout[i] * scale : T(0);
    dinp[i] = accumulate ? dinp[i] + d : d;
  }
}

template void dropout_forward<float>(float*, const float*, index_t, double, std::uint64_t);
template void dropout_forward<double>(double*, const double*, index_t, double, std::uint64_t);
template void dropout_backward<float>(float*, const float*, index_t, double, std::uint64_t, bool);
template void dropout_backward<double>(double*, const double*, index_t, double, std::uint64_t, bool);

}  // namespace nntrain
