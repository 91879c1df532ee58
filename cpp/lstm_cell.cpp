#include "lstm_cell.h"

#include <algorithm>

#include "fast_math.h"

namespace nntrain {

namespace {

constexpr index_t kRun = 256;  // backward works through each row in runs of this many units

// Branch-free loops over contiguous runs, marked `omp simd` so that fast_exp / fast_tanh vectorise (as the
// activation kernels do).
template <class T>
void sigmoid_run(T* out, const T* x, index_t n) {
#pragma omp simd
  for (index_t j = 0; j < n; ++j) out[j] = T(1) / (T(1) + fast_exp(-x[j]));
}
template <class T>
void tanh_run(T* out, const T* x, index_t n) {
#pragma omp simd
  for (index_t j = 0; j < n; ++j) out[j] = fast_tanh(x[j]);
}

}  // namespace

template <class T>
void lstm_cell_forward(T* h, T* c, T* act, const T* gates, const T* c_prev, index_t N, index_t H) {
  parallel_for(N, 16 * N * H, [&](index_t n) {
    const T* z = gates + n * 4 * H;
    T* a = act + n * 4 * H;
    sigmoid_run(a, z, 2 * H);                   // i, f
    tanh_run(a + 2 * H, z + 2 * H, H);          // g
    sigmoid_run(a + 3 * H, z + 3 * H, H);       // o
    const T *i = a, *f = a + H, *g = a + 2 * H, *o = a + 3 * H;
    const T* cp = c_prev + n * H;
    T* cn = c + n * H;
    T* hn = h + n * H;
#pragma omp simd
    for (index_t j = 0; j < H; ++j) cn[j] = f[j] * cp[j] + i[j] * g[j];
    tanh_run(hn, cn, H);
#pragma omp simd
    for (index_t j = 0; j < H; ++j) hn[j] *= o[j];
  });
}

template <class T>
void lstm_cell_backward(T* dgates, T* dc_prev, const T* dh, const T* dc, const T* act, const T* c_prev, const T* c,
                        index_t N, index_t H) {
  parallel_for(N, 16 * N * H, [&](index_t n) {
    const T* a = act + n * 4 * H;
    const T *i = a, *f = a + H, *g = a + 2 * H, *o = a + 3 * H;
    const T* cp = c_prev + n * H;
    const T* cn = c + n * H;
    T* d = dgates + n * 4 * H;
    // A missing gradient reads as zeros from a small local run, so the loop below has no branches.
    T zeros[kRun] = {};
    for (index_t j0 = 0; j0 < H; j0 += kRun) {
      const index_t len = std::min(kRun, H - j0);
      const T* dh_j = dh ? dh + n * H + j0 : zeros;
      const T* dc_j = dc ? dc + n * H + j0 : zeros;
      T dC[kRun];
#pragma omp simd
      for (index_t j = 0; j < len; ++j) {
        const index_t k = j0 + j;
        const T t = fast_tanh(cn[k]);
        dC[j] = dc_j[j] + dh_j[j] * o[k] * (T(1) - t * t);
        d[k] += dC[j] * g[k] * i[k] * (T(1) - i[k]);
        d[H + k] += dC[j] * cp[k] * f[k] * (T(1) - f[k]);
        d[2 * H + k] += dC[j] * i[k] * (T(1) - g[k] * g[k]);
        d[3 * H + k] += dh_j[j] * t * o[k] * (T(1) - o[k]);
      }
      if (dc_prev) {
        T* dp = dc_prev + n * H + j0;
#pragma omp simd
        for (index_t j = 0; j < len; ++j) dp[j] += dC[j] * f[j0 + j];
      }
    }
  });
}

#define NNTRAIN_INSTANTIATE(T)                                                                            \
  template void lstm_cell_forward<T>(T*, T*, T*, const T*, const T*, index_t, index_t);                   \
  template void lstm_cell_backward<T>(T*, T*, const T*, const T*, const T*, const T*, const T*, index_t, \
                                      index_t);
NNTRAIN_INSTANTIATE(float)
NNTRAIN_INSTANTIATE(double)
#undef NNTRAIN_INSTANTIATE

}  // namespace nntrain
