#include "batch_norm.h"

#include <cmath>
#include <cstdint>

#include "dispatch.h"
#include "pool2d.h"
#include "scratch.h"

namespace nntrain {

namespace {

// Calls f(values, offset) for each contiguous run of channel c's values: one run of S per image.
template <class T, class F>
inline void for_each_run(const T* x, index_t c, index_t N, index_t C, index_t S, F&& f) {
  for (index_t n = 0; n < N; ++n) f(x + (n * C + c) * S, n * C * S + c * S);
}

struct Normalisation {
  double mu, inv;  // the mean and 1/sqrt(var + eps) the channel is normalised with
};

// What channel c normalises with: in training the batch's mean and 1/sqrt(var + eps) (the running
// statistics, when tracked, move towards them), otherwise the running ones. Written to mean[c], invstd[c].
template <class T>
Normalisation channel_normalisation(const ElementwiseKernels<T>& k, index_t c, T* mean, T* invstd, T* running_mean,
                                    T* running_var, const T* x, index_t N, index_t C, index_t S, bool training,
                                    double momentum, double eps) {
  const index_t M = N * S;
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
  return {mu, inv};
}

// out = x * scale + shift, with scale = weight * invstd and shift = bias - mean * scale.
template <class T>
void affine_of(const Normalisation& nm, const T* weight, const T* bias, index_t c, T& scale, T& shift) {
  const double w = weight ? double(weight[c]) : 1.0, b = bias ? double(bias[c]) : 0.0;
  scale = T(w * nm.inv);
  shift = T(b - nm.mu * w * nm.inv);
}

// From channel c's sums (of dy, and of dy (x - mean)): writes or adds dweight[c] and dbias[c], and returns the
// coefficients of dx = dy k + x a + b (with_x false: dx = dy k, evaluation's constant statistics).
template <class T>
struct DxCoefficients {
  T k, a, b;
  bool with_x;
};

template <class T>
DxCoefficients<T> channel_gradients(index_t c, double sum_dy, double sum_dy_dx, T* dweight, T* dbias, const T* weight,
                                    const T* mean, const T* invstd, index_t M, bool training, bool accumulate) {
  const double mu = mean[c], inv = invstd[c];
  const double sum_dy_xhat = sum_dy_dx * inv;
  if (dweight) dweight[c] = accumulate ? dweight[c] + T(sum_dy_xhat) : T(sum_dy_xhat);
  if (dbias) dbias[c] = accumulate ? dbias[c] + T(sum_dy) : T(sum_dy);
  const double w = weight ? double(weight[c]) : 1.0;
  const T kx = T(w * inv);
  if (!training || M == 0) return {kx, T(0), T(0), false};
  // dx = k (dy - mean(dy) - xhat mean(dy xhat)), written as dy k + x a + b
  const double mean_dy = sum_dy / double(M), mean_dy_xhat = sum_dy_xhat / double(M);
  return {kx, T(-w * inv * inv * mean_dy_xhat), T(w * inv * (-mean_dy + mu * inv * mean_dy_xhat)), true};
}

}  // namespace

// Channels are independent (one per parallel item); the runs are handed to the kernels of the ISA in use
// (kernels/elementwise_loops.h), whose sums depend on a run's values only.
template <class T>
void batch_norm_forward(T* out, T* mean, T* invstd, T* running_mean, T* running_var, const T* x, const T* weight,
                        const T* bias, index_t N, index_t C, index_t S, bool training, double momentum, double eps,
                        bool relu) {
  const ElementwiseKernels<T>& k = elementwise_kernels<T>();
  parallel_for(C, N * C * S, [&](index_t c) {
    const Normalisation nm =
        channel_normalisation(k, c, mean, invstd, running_mean, running_var, x, N, C, S, training, momentum, eps);
    T scale, shift;
    affine_of(nm, weight, bias, c, scale, shift);
    for_each_run(x, c, N, C, S, [&](const T* r, index_t offset) { k.affine(out + offset, r, S, scale, shift, relu); });
  });
}

template <class T>
void batch_norm_backward(T* dx, T* dweight, T* dbias, const T* dout, const T* x, const T* weight, const T* mean,
                         const T* invstd, index_t N, index_t C, index_t S, bool training, const T* relu_out,
                         bool accumulate) {
  const ElementwiseKernels<T>& k = elementwise_kernels<T>();
  parallel_for(C, N * C * S, [&](index_t c) {
    // relu_out gates dout: the gradient reaching the normalisation under a fused ReLU
    double sum_dy = 0.0, sum_dy_dx = 0.0;
    for_each_run(dout, c, N, C, S, [&](const T* g, index_t offset) {
      k.norm_backward_sums(g, x + offset, relu_out ? relu_out + offset : nullptr, S, double(mean[c]), &sum_dy,
                           &sum_dy_dx);
    });
    const DxCoefficients<T> d =
        channel_gradients(c, sum_dy, sum_dy_dx, dweight, dbias, weight, mean, invstd, N * S, training, accumulate);
    if (!dx) return;
    for_each_run(dout, c, N, C, S, [&](const T* g, index_t offset) {
      k.norm_backward_dx(dx + offset, g, d.with_x ? x + offset : nullptr, relu_out ? relu_out + offset : nullptr, S,
                         d.k, d.a, d.b, accumulate);
    });
  });
}

// The pooled plane of image n, channel c is at ((n C + c) P), P = (H / 2) (W / 2): x's runs, a quarter long.
template <class T>
void batch_norm_relu_max_pool_forward(T* out, std::uint8_t* window, T* mean, T* invstd, T* running_mean,
                                      T* running_var, const T* x, const T* weight, const T* bias, index_t N, index_t C,
                                      index_t H, index_t W, bool training, double momentum, double eps) {
  const ElementwiseKernels<T>& k = elementwise_kernels<T>();
  const index_t S = H * W, OH = H / 2, OW = W / 2, P = OH * OW;
  const std::int32_t* corners = pool_window_corners(H, W);
  parallel_for(C, N * C * S, [&](index_t c) {
    const Normalisation nm =
        channel_normalisation(k, c, mean, invstd, running_mean, running_var, x, N, C, S, training, momentum, eps);
    T scale, shift;
    affine_of(nm, weight, bias, c, scale, shift);
    T* y = thread_scratch<T>(kScratchNormPool, S + P);  // a normalised plane, pooled from L1; the windows' choices
    T* at = y + S;
    for (index_t n = 0; n < N; ++n) {
      const index_t plane = n * C + c;
      k.norm_relu_pool_forward(out + plane * P, window + plane * P, y, at, x + plane * S, corners, W, OH, OW, scale,
                               shift);
    }
  });
}

template <class T>
void batch_norm_relu_max_pool_backward(T* dx, T* dweight, T* dbias, const T* dout, const T* out,
                                       const std::uint8_t* window, const T* x, const T* weight, const T* mean,
                                       const T* invstd, index_t N, index_t C, index_t H, index_t W, bool training,
                                       bool accumulate) {
  const ElementwiseKernels<T>& k = elementwise_kernels<T>();
  const index_t S = H * W, OH = H / 2, OW = W / 2, P = OH * OW;
  const std::int32_t* corners = pool_window_corners(H, W);
  parallel_for(C, N * C * S, [&](index_t c) {
    // The channel's gated gradients and picked inputs (N P values each), and its dy planes (N S). Each step
    // runs over all of the channel's planes before the next reads what it wrote: pick and spread write with
    // scalar stores (gathers and scatters), which the vector loads of a pass right behind them cannot take
    // from the store buffer (they wait for the stores to retire).
    T* g = thread_scratch<T>(kScratchNormPool, 2 * N * P + N * S);
    T* x_at = g + N * P;
    T* dy = x_at + N * P;
    for (index_t n = 0; n < N; ++n) {
      const index_t plane = n * C + c;
      k.norm_relu_pool_pick(g + n * P, x_at + n * P, dout + plane * P, out + plane * P, window + plane * P,
                            x + plane * S, corners, W, OH, OW);
    }
    double sum_dy = 0.0, sum_dy_dx = 0.0;
    for (index_t n = 0; n < N; ++n)
      k.norm_backward_sums(g + n * P, x_at + n * P, nullptr, P, double(mean[c]), &sum_dy, &sum_dy_dx);
    const DxCoefficients<T> d =
        channel_gradients(c, sum_dy, sum_dy_dx, dweight, dbias, weight, mean, invstd, N * S, training, accumulate);
    if (!dx) return;
    for (index_t n = 0; n < N; ++n)
      k.norm_relu_pool_spread(dy + n * S, g + n * P, window + (n * C + c) * P, corners, H, W, OH, OW);
    for (index_t n = 0; n < N; ++n) {
      const index_t plane = n * C + c;
      k.norm_backward_dx(dx + plane * S, dy + n * S, d.with_x ? x + plane * S : nullptr, nullptr, S, d.k, d.a, d.b,
                         accumulate);
    }
  });
}

#define NNTRAIN_INSTANTIATE(T)                                                                               \
  template void batch_norm_forward<T>(T*, T*, T*, T*, T*, const T*, const T*, const T*, index_t, index_t,     \
                                      index_t, bool, double, double, bool);                                  \
  template void batch_norm_backward<T>(T*, T*, T*, const T*, const T*, const T*, const T*, const T*, index_t, \
                                       index_t, index_t, bool, const T*, bool);                              \
  template void batch_norm_relu_max_pool_forward<T>(T*, std::uint8_t*, T*, T*, T*, T*, const T*, const T*,    \
                                                    const T*, index_t, index_t, index_t, index_t, bool, double, \
                                                    double);                                                 \
  template void batch_norm_relu_max_pool_backward<T>(T*, T*, T*, const T*, const T*, const std::uint8_t*,     \
                                                     const T*, const T*, const T*, const T*, index_t, index_t, \
                                                     index_t, index_t, bool, bool);
NNTRAIN_INSTANTIATE(float)
NNTRAIN_INSTANTIATE(double)
#undef NNTRAIN_INSTANTIATE

}  // namespace nntrain
