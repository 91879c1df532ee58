#include "reduce.h"

#include <algorithm>

namespace nntrain {

template <class T>
void sum_rows(T* out, const T* x, index_t rows, index_t cols, bool accumulate) {
  // Threads own disjoint column blocks and each sums its rows in order: no races, and the result does
  // not depend on the thread count. Float sums are carried in double.
  constexpr index_t kBlock = 256;
  const index_t blocks = ceil_div(cols, kBlock);
#pragma omp parallel for schedule(static) num_threads(num_threads()) if(parallel_worth(rows * cols) && blocks > 1)
  for (index_t b = 0; b < blocks; ++b) {
    const index_t j0 = b * kBlock, j1 = std::min(cols, j0 + kBlock);
    double acc[kBlock] = {};
    for (index_t i = 0; i < rows; ++i) {
      const T* xi = x + i * cols;
      for (index_t j = j0; j < j1; ++j) acc[j - j0] += xi[j];
    }
    for (index_t j = j0; j < j1; ++j) out[j] = (accumulate ? out[j] : T(0)) + static_cast<T>(acc[j - j0]);
  }
}

template <class T>
void sum_per_channel(T* out, const T* x, index_t N, index_t C, index_t S, bool accumulate) {
#pragma omp parallel for schedule(static) num_threads(num_threads()) if(parallel_worth(N * C * S) && C > 1)
  for (index_t c = 0; c < C; ++c) {
    double acc = 0.0;
    for (index_t n = 0; n < N; ++n) {
      const T* xs = x + (n * C + c) * S;
      for (index_t s = 0; s < S; ++s) acc += xs[s];
    }
    out[c] = (accumulate ? out[c] : T(0)) + static_cast<T>(acc);
  }
}

template void sum_rows<float>(float*, const float*, index_t, index_t, bool);
template void sum_rows<double>(double*, const double*, index_t, index_t, bool);
template void sum_per_channel<float>(float*, const float*, index_t, index_t, index_t, bool);
template void sum_per_channel<double>(double*, const double*, index_t, index_t, index_t, bool);

}  // namespace nntrain
