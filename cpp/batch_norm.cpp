#include "batch_norm.h"

#include <cmath>

#include "lane_sum.h"

namespace nntrain {

namespace {

// Calls f(values, count) for each contiguous run of channel c's values: one run of S per image.
template <class T, class F>
inline void for_each_run(const T* x, index_t c, index_t N, index_t C, index_t S, F&& f) {
  for (index_t n = 0; n < N; ++n) f(x + (n * C + c) * S, n * C * S + c * S);
}

}  // namespace

template <class T>
void batch_norm_forward(T* out, T* mean, T* invstd, T* running_mean, T* running_var, const T* x, const T* weight,
                        const T* bias, index_t N, index_t C, index_t S, bool training, double momentum, double eps,
                        bool relu) {
  const index_t M = N * S;
  parallel_for(C, N * C * S, [&](index_t c) {
    double mu, inv;
    if (training) {
      // Two passes (mean, then squared deviations) keep the variance accurate when |mean| >> std.
      double sum = 0.0;
      for_each_run(x, c, N, C, S, [&](const T* r, index_t) { sum += lane_sum(S, [r](index_t s) { return double(r[s]); }); });
      mu = sum / double(M);
      double sq = 0.0;
      for_each_run(x, c, N, C, S, [&](const T* r, index_t) {
        sq += lane_sum(S, [r, mu](index_t s) {
          const double d = double(r[s]) - mu;
          return d * d;
        });
      });
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
    for_each_run(x, c, N, C, S, [&](const T* r, index_t offset) {
      T* o = out + offset;
      if (relu) {
#pragma omp simd
        for (index_t s = 0; s < S; ++s) {
          const T v = r[s] * scale + shift;
          o[s] = v < T(0) ? T(0) : v;
        }
      } else {
#pragma omp simd
        for (index_t s = 0; s < S; ++s) o[s] = r[s] * scale + shift;
      }
    });
  });
}

template <class T>
void batch_norm_backward(T* dx, T* dweight, T* dbias, const T* dout, const T* x, const T* weight, const T* mean,
                         const T* invstd, index_t N, index_t C, index_t S, bool training, const T* relu_out) {
  const index_t M = N * S;
  parallel_for(C, N * C * S, [&](index_t c) {
    const double mu = mean[c], inv = invstd[c];
    double sum_dy = 0.0, sum_dy_xhat = 0.0;
    // The gradient reaching the normalisation: dout, or dout where the fused ReLU let the value through.
    // Both loads happen unconditionally so the select stays a vector blend.
    auto gated = [relu_out](const T* g, index_t offset, index_t s) {
      const T gs = g[s];
      return relu_out[offset + s] > T(0) ? gs : T(0);
    };
    for_each_run(dout, c, N, C, S, [&](const T* g, index_t offset) {
      const T* r = x + offset;
      if (relu_out) {
        sum_dy += lane_sum(S, [&](index_t s) { return double(gated(g, offset, s)); });
        sum_dy_xhat += lane_sum(S, [&](index_t s) { return double(gated(g, offset, s)) * (double(r[s]) - mu); });
      } else {
        sum_dy += lane_sum(S, [g](index_t s) { return double(g[s]); });
        sum_dy_xhat += lane_sum(S, [g, r, mu](index_t s) { return double(g[s]) * (double(r[s]) - mu); });
      }
    });
    sum_dy_xhat *= inv;
    if (dweight) dweight[c] += T(sum_dy_xhat);
    if (dbias) dbias[c] += T(sum_dy);
    if (!dx) return;
    const double w = weight ? double(weight[c]) : 1.0;
    const T k = T(w * inv);
    if (training && M > 0) {
      // dx = k (dy - mean(dy) - xhat mean(dy xhat)), written as dy k + x a + b
      const double mean_dy = sum_dy / double(M), mean_dy_xhat = sum_dy_xhat / double(M);
      const T a = T(-w * inv * inv * mean_dy_xhat);
      const T b = T(w * inv * (-mean_dy + mu * inv * mean_dy_xhat));
      for_each_run(dout, c, N, C, S, [&](const T* g, index_t offset) {
        const T* r = x + offset;
        T* d = dx + offset;
        if (relu_out) {
          for (index_t s = 0; s < S; ++s) d[s] += gated(g, offset, s) * k + r[s] * a + b;
        } else {
          for (index_t s = 0; s < S; ++s) d[s] += g[s] * k + r[s] * a + b;
        }
      });
    } else {
      for_each_run(dout, c, N, C, S, [&](const T* g, index_t offset) {
        T* d = dx + offset;
        if (relu_out) {
          for (index_t s = 0; s < S; ++s) d[s] += gated(g, offset, s) * k;
        } else {
          for (index_t s = 0; s < S; ++s) d[s] += g[s] * k;
        }
      });
    }
  });
}

#define NNTRAIN_INSTANTIATE(T)                                                                               \
  template void batch_norm_forward<T>(T*, T*, T*, T*, T*, const T*, const T*, const T*, index_t, index_t,     \
                                      index_t, bool, double, double, bool);                                  \
  template void batch_norm_backward<T>(T*, T*, T*, const T*, const T*, const T*, const T*, const T*, index_t, \
                                       index_t, index_t, bool, const T*);
NNTRAIN_INSTANTIATE(float)
NNTRAIN_INSTANTIATE(double)
#undef NNTRAIN_INSTANTIATE

}  // namespace nntrain
