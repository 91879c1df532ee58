#include "bn_relu_pool.h"

#include <algorithm>
#include <cmath>

#include "lane_sum.h"

namespace nntrain {

namespace {

// The mean and variance of channel c over its N runs of S values: two passes (mean, then squared
// deviations) in double, as batch_norm_forward takes them.
template <class T>
void channel_stats(double* mu, double* var, const T* x, index_t c, index_t N, index_t C, index_t S) {
  double sum = 0.0;
  for (index_t n = 0; n < N; ++n) {
    const T* r = x + (n * C + c) * S;
    sum += lane_sum(S, [r](index_t s) { return double(r[s]); });
  }
  *mu = sum / double(N * S);
  double sq = 0.0;
  for (index_t n = 0; n < N; ++n) {
    const T* r = x + (n * C + c) * S;
    const double m = *mu;
    sq += lane_sum(S, [r, m](index_t s) {
      const double d = double(r[s]) - m;
      return d * d;
    });
  }
  *var = sq / double(N * S);
}

// max(v, 0) with NaN passing, as the ReLU; in this order of operands a single max instruction, no branch.
template <class T>
inline T relu(T v) {
  return T(0) > v ? T(0) : v;
}

// Windows per block of the forward's inner loops (arrays on the stack).
constexpr index_t kBlock = 64;

// The windows' flat positions within the plane: position q of window (oh, ow) is (2 oh + q / 2) W + 2 ow + q % 2.
inline index_t window_at(index_t oh, index_t ow, index_t W, int q) { return (2 * oh + q / 2) * W + 2 * ow + q % 2; }

}  // namespace

template <class T>
void bn_relu_pool_forward(T* out, std::int8_t* code, T* mean, T* invstd, T* running_mean, T* running_var, const T* x,
                          const T* weight, const T* bias, index_t N, index_t C, index_t H, index_t W, bool training,
                          double momentum, double eps) {
  const index_t S = H * W, M = N * S, OH = H / 2, OW = W / 2;
  parallel_for(C, N * C * S, [&](index_t c) {
    double mu, inv;
    if (training) {
      double var;
      channel_stats(&mu, &var, x, c, N, C, S);
      inv = 1.0 / std::sqrt(var + eps);
      if (running_mean) running_mean[c] = T((1.0 - momentum) * running_mean[c] + momentum * mu);
      if (running_var) running_var[c] = T((1.0 - momentum) * running_var[c] + momentum * var * double(M) / double(M - 1));
    } else {
      mu = running_mean[c];
      inv = 1.0 / std::sqrt(double(running_var[c]) + eps);
    }
    mean[c] = T(mu);
    invstd[c] = T(inv);
    const double w = weight ? double(weight[c]) : 1.0, b = bias ? double(bias[c]) : 0.0;
    const T scale = T(w * inv), shift = T(b - mu * w * inv);  // as batch_norm_forward
    for (index_t n = 0; n < N; ++n) {
      const T* plane = x + (n * C + c) * S;
      T* o = out + (n * C + c) * OH * OW;
      std::int8_t* k = code + (n * C + c) * OH * OW;
      for (index_t oh = 0; oh < OH; ++oh) {
        const T* r0 = plane + 2 * oh * W;
        const T* r1 = r0 + W;
        for (index_t ow0 = 0; ow0 < OW; ow0 += kBlock) {
          const index_t count = std::min(kBlock, OW - ow0);
          // The window's four values, normalised and through the ReLU, each kind in an array of its own so
          // that both loops below run on whole vectors.
          T v0[kBlock], v1[kBlock], v2[kBlock], v3[kBlock];
          for (index_t i = 0; i < count; ++i) {
            const index_t col = 2 * (ow0 + i);
            v0[i] = relu(r0[col] * scale + shift);
            v1[i] = relu(r0[col + 1] * scale + shift);
            v2[i] = relu(r1[col] * scale + shift);
            v3[i] = relu(r1[col + 1] * scale + shift);
          }
          // The maximum and the first position holding it in row-major order: max_pool2d's rule when no
          // value is NaN, written with max instructions and selects so that the loop runs on vectors.
          T* ob = o + oh * OW + ow0;
          std::int8_t* kb = k + oh * OW + ow0;
          bool nan = false;
          for (index_t i = 0; i < count; ++i)
            nan |= (v0[i] != v0[i]) | (v1[i] != v1[i]) | (v2[i] != v2[i]) | (v3[i] != v3[i]);
          if (!nan) {
            T where[kBlock];
            for (index_t i = 0; i < count; ++i) {
              const T best = std::max(std::max(v0[i], v1[i]), std::max(v2[i], v3[i]));
              T at = v2[i] == best ? T(2) : T(3);
              at = v1[i] == best ? T(1) : at;
              at = v0[i] == best ? T(0) : at;
              ob[i] = best;
              where[i] = best > T(0) ? at : T(-1);
            }
            for (index_t i = 0; i < count; ++i) kb[i] = static_cast<std::int8_t>(where[i]);
            continue;
          }
          // With a NaN, the scan of max_pool2d: a later value wins when larger, or NaN while the best is not.
          for (index_t i = 0; i < count; ++i) {
            const T v[4] = {v0[i], v1[i], v2[i], v3[i]};
            T best = v[0];
            int at = 0;
            for (int q = 1; q < 4; ++q)
              if ((v[q] > best || v[q] != v[q]) && best == best) {
                best = v[q];
                at = q;
              }
            ob[i] = best;
            kb[i] = static_cast<std::int8_t>(best > T(0) ? at : -1);
          }
        }
      }
    }
  });
}

template <class T>
void bn_relu_pool_backward(T* dx, T* dweight, T* dbias, const T* dout, const std::int8_t* code, const T* x,
                           const T* weight, const T* mean, const T* invstd, index_t N, index_t C, index_t H, index_t W,
                           bool training) {
  const index_t S = H * W, M = N * S, OH = H / 2, OW = W / 2, P = OH * OW;
  parallel_for(C, 2 * N * C * S, [&](index_t c) {
    const double mu = mean[c], inv = invstd[c];
    // The sums over the gradient reaching the normalisation, which is dout at one position per window.
    double sum_dy = 0.0, sum_dy_xhat = 0.0;
    for (index_t n = 0; n < N; ++n) {
      const T* plane = x + (n * C + c) * S;
      const T* g = dout + (n * C + c) * P;
      const std::int8_t* k = code + (n * C + c) * P;
      sum_dy += lane_sum(P, [g, k](index_t i) { return k[i] >= 0 ? double(g[i]) : 0.0; });
      sum_dy_xhat += lane_sum(P, [&](index_t i) {
        if (k[i] < 0) return 0.0;
        return double(g[i]) * (double(plane[window_at(i / OW, i % OW, W, k[i])]) - mu);
      });
    }
    sum_dy_xhat *= inv;
    if (dweight) dweight[c] += T(sum_dy_xhat);
    if (dbias) dbias[c] += T(sum_dy);
    if (!dx) return;
    const double w = weight ? double(weight[c]) : 1.0;
    const T kk = T(w * inv);
    // dx = kk dy + x a + b when training (batch_norm_backward's terms, in its order), kk dy otherwise.
    T a = T(0), b = T(0);
    if (training && M > 0) {
      const double mean_dy = sum_dy / double(M), mean_dy_xhat = sum_dy_xhat / double(M);
      a = T(-w * inv * inv * mean_dy_xhat);
      b = T(w * inv * (-mean_dy + mu * inv * mean_dy_xhat));
    }
    for (index_t n = 0; n < N; ++n) {
      const T* plane = x + (n * C + c) * S;
      T* d = dx + (n * C + c) * S;
      const T* g = dout + (n * C + c) * P;
      const std::int8_t* k = code + (n * C + c) * P;
      for (index_t y = 0; y < H; ++y) {
        const T* r = plane + y * W;
        T* dr = d + y * W;
        const index_t oh = y / 2, cols = y < 2 * OH ? 2 * OW : 0;  // the columns this row's windows cover
        const int q_row = 2 * int(y % 2);
        for (index_t col = 0; col < W; ++col) {
          T dy = T(0);
          if (col < cols) {
            const index_t i = oh * OW + col / 2;
            dy = k[i] == q_row + int(col % 2) ? g[i] : T(0);
          }
          dr[col] += training ? dy * kk + r[col] * a + b : dy * kk;
        }
      }
    }
  });
}

#define NNTRAIN_INSTANTIATE(T)                                                                                       \
  template void bn_relu_pool_forward<T>(T*, std::int8_t*, T*, T*, T*, T*, const T*, const T*, const T*, index_t,     \
                                        index_t, index_t, index_t, bool, double, double);                            \
  template void bn_relu_pool_backward<T>(T*, T*, T*, const T*, const std::int8_t*, const T*, const T*, const T*,     \
                                         const T*, index_t, index_t, index_t, index_t, bool);
NNTRAIN_INSTANTIATE(float)
NNTRAIN_INSTANTIATE(double)
#undef NNTRAIN_INSTANTIATE

}  // namespace nntrain
