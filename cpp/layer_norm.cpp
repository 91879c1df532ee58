#include "layer_norm.h"

#include <algorithm>
#include <cmath>

#include "lane_sum.h"

namespace nntrain {

template <class T>
void layer_norm_forward(T* out, T* mean, T* rstd, const T* x, const T* weight, const T* bias, index_t N, index_t D,
                        double eps) {
  parallel_for(N, N * D, [&](index_t i) {
    const T* xi = x + i * D;
    T* oi = out + i * D;
    const double m = lane_sum(D, [xi](index_t j) { return double(xi[j]); }) / double(D);
    // The variance from the deviations (two passes), not E[x^2] - m^2, which cancels for large means.
    const double v = lane_sum(D, [xi, m](index_t j) {
                       const double d = double(xi[j]) - m;
                       return d * d;
                     }) / double(D);
    const double s = 1.0 / std::sqrt(v + eps);
    const T mt = static_cast<T>(m), st = static_cast<T>(s);
    if (weight != nullptr && bias != nullptr)
      for (index_t j = 0; j < D; ++j) oi[j] = (xi[j] - mt) * st * weight[j] + bias[j];
    else if (weight != nullptr)
      for (index_t j = 0; j < D; ++j) oi[j] = (xi[j] - mt) * st * weight[j];
    else
      for (index_t j = 0; j < D; ++j) oi[j] = (xi[j] - mt) * st;
    mean[i] = mt;
    rstd[i] = st;
  });
}

template <class T>
void layer_norm_backward(T* dx, T* dweight, T* dbias, const T* dout, const T* x, const T* weight, const T* mean,
                         const T* rstd, index_t N, index_t D) {
  if (dx != nullptr) {
    parallel_for(N, 3 * N * D, [&](index_t i) {
      const T* gi = dout + i * D;
      const T* xi = x + i * D;
      const T m = mean[i], s = rstd[i];
      auto dnorm = [&](index_t j) { return weight ? weight[j] * gi[j] : gi[j]; };
      // first pass: the two means over the row that every element's gradient subtracts
      const double dnorm_mean = lane_sum(D, [&](index_t j) { return double(dnorm(j)); }) / double(D);
      const double dnorm_norm_mean =
          lane_sum(D, [&](index_t j) { return double(dnorm(j)) * double((xi[j] - m) * s); }) / double(D);
      // second pass: dx = rstd (dnorm - mean(dnorm) - norm mean(dnorm norm))
      const T a = static_cast<T>(dnorm_mean), b = static_cast<T>(dnorm_norm_mean);
      T* dxi = dx + i * D;
      for (index_t j = 0; j < D; ++j) dxi[j] += s * (dnorm(j) - a - (xi[j] - m) * s * b);
    });
  }
  if (dweight == nullptr && dbias == nullptr) return;
  constexpr index_t kBlock = 256;
  const index_t blocks = ceil_div(D, kBlock);
  parallel_for(blocks, 2 * N * D, [&](index_t blk) {
    const index_t j0 = blk * kBlock, j1 = std::min(D, j0 + kBlock);
    double acc_w[kBlock] = {}, acc_b[kBlock] = {};
    for (index_t i = 0; i < N; ++i) {
      const T* gi = dout + i * D;
      const T* xi = x + i * D;
      const T m = mean[i], s = rstd[i];
      for (index_t j = j0; j < j1; ++j) {
        acc_b[j - j0] += gi[j];
        acc_w[j - j0] += double(gi[j]) * double((xi[j] - m) * s);
      }
    }
    for (index_t j = j0; j < j1; ++j) {
      if (dweight) dweight[j] += static_cast<T>(acc_w[j - j0]);
      if (dbias) dbias[j] += static_cast<T>(acc_b[j - j0]);
    }
  });
}

#define NNTRAIN_INSTANTIATE(T)                                                                               \
  template void layer_norm_forward<T>(T*, T*, T*, const T*, const T*, const T*, index_t, index_t, double);    \
  template void layer_norm_backward<T>(T*, T*, T*, const T*, const T*, const T*, const T*, const T*, index_t, \
                                       index_t);
NNTRAIN_INSTANTIATE(float)
NNTRAIN_INSTANTIATE(double)
#undef NNTRAIN_INSTANTIATE

}  // namespace nntrain
