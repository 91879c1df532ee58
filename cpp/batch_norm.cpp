#include "batch_norm.h"

#include <cmath>

#include "dispatch.h"

namespace nntrain {

namespace {

// Calls f(values, offset) for each contiguous run of channel c's values: one run of S per image.
template <class T, class F>
inline void for_each_run(const T* x, index_t c, index_t N, index_t C, index_t S, F&& f) {
  for (index_t n = 0; n < N; ++n) f(x + (n * C + c) * S, n * C * S + c * S);
}

}  // namespace

// Channels are independent (one per parallel item); the runs are handed to the kernels of the ISA in use
// (kernels/elementwise_loops.h), whose sums depend on a run's values only.
template <class T>
void batch_norm_forward(T* out, T* mean, T* invstd, T* running_mean, T* running_var, const T* x, const T* weight,
                        const T* bias, index_t N, index_t C, index_t S, bool training, double momentum, double eps,
                        bool relu) {
  const ElementwiseKernels<T>& k = elementwise_kernels<T>();
  const index_t M = N * S;
  parallel_for(C, N * C * S, [&](index_t c) {
    double mu, inv;
    if (training) {
      // Two passes (mean, then squared deviations) keep the variance accurate when |mean| >> std.
      double sum = 0.0;
      for_each_run(x, c, N, C, S, [&](const T* r, index_t) { sum += k.sum(r, S); });
      mu = sum / double(M);
      double sq = 0.0;
      for_each_run(x, c, N, C, S, [&](const T* r, index_t) { sq += k.sum_squared_deviation(r, S, mu); });
      const double var = sq / double(M);
      inv = 1.0 / std::sqrt(var + eps);
      if (running_mean) running_mean[c] = T((1.0 - momentum) * running_mean[c] + momentum * mu);
      if (running_var) running_var[c] = T((1.0 - momentum) * running_var[c] + momentum * var * double(M) / double(M - 1));
    } else {
      mu = running_mean[c];
      inv = 1.0 / std::sqrt(double(running_var[c]) + eps);
    }
    mean[c] = T(mu);
    invstd[c] = T(inv);
    // out = x * scale + shift, with scale = weight * invstd and shift = bias - mean * scale.
    const double w = weight ? double(weight[c]) : 1.0, b = bias ? double(bias[c]) : 0.0;
    const T scale = T(w * inv), shift = T(b - mu * w * inv);
    for_each_run(x, c, N, C, S, [&](const T* r, index_t offset) { k.affine(out + offset, r, S, scale, shift, relu); });
  });
}

template <class T>
void batch_norm_backward(T* dx, T* dweight, T* dbias, const T* dout, const T* x, const T* weight, const T* mean,
                         const T* invstd, index_t N, index_t C, index_t S, bool training, const T* relu_out,
                         bool accumulate) {
  const ElementwiseKernels<T>& k = elementwise_kernels<T>();
  const index_t M = N * S;
  parallel_for(C, N * C * S, [&](index_t c) {
    const double mu = mean[c], inv = invstd[c];
    // relu_out gates dout: the gradient reaching the normalisation under a fused ReLU
    double sum_dy = 0.0, sum_dy_xhat = 0.0;
    for_each_run(dout, c, N, C, S, [&](const T* g, index_t offset) {
      k.norm_backward_sums(g, x + offset, relu_out ? relu_out + offset : nullptr, S, mu, &sum_dy, &sum_dy_xhat);
    });
    sum_dy_xhat *= inv;
    if (dweight) dweight[c] = accumulate ? dweight[c] + T(sum_dy_xhat) : T(sum_dy_xhat);
    if (dbias) dbias[c] = accumulate ? dbias[c] + T(sum_dy) : T(sum_dy);
    if (!dx) return;
    const double w = weight ? double(weight[c]) : 1.0;
    const T kx = T(w * inv);
    if (training && M > 0) {
      // dx = k (dy - mean(dy) - xhat mean(dy xhat)), written as dy k + x a + b
      const double mean_dy = sum_dy / double(M), mean_dy_xhat = sum_dy_xhat / double(M);
      const T a = T(-w * inv * inv * mean_dy_xhat);
      const T b = T(w * inv * (-mean_dy + mu * inv * mean_dy_xhat));
      for_each_run(dout, c, N, C, S, [&](const T* g, index_t offset) {
        k.norm_backward_dx(dx + offset, g, x + offset, relu_out ? relu_out + offset : nullptr, S, kx, a, b, accumulate);
      });
    } else {
      for_each_run(dout, c, N, C, S, [&](const T* g, index_t offset) {
        k.norm_backward_dx(dx + offset, g, nullptr, relu_out ? relu_out + offset : nullptr, S, kx, T(0), T(0),
                           accumulate);
      });
    }
  });
}

#define NNTRAIN_INSTANTIATE(T)                                                                               \
  template void batch_norm_forward<T>(T*, T*, T*, T*, T*, const T*, const T*, const T*, index_t, index_t,     \
                                      index_t, bool, double, double, bool);                                  \
  template void batch_norm_backward<T>(T*, T*, T*, const T*, const T*, const T*, const T*, const T*, index_t, \
                                       index_t, index_t, bool, const T*, bool);
NNTRAIN_INSTANTIATE(float)
NNTRAIN_INSTANTIATE(double)
#undef NNTRAIN_INSTANTIATE

}  // namespace nntrain
