#include "loss.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "dispatch.h"

namespace nntrain {

template <class T>
double cross_entropy_forward(T* probs, const T* logits, const std::int64_t* labels, const T* targets, index_t N,
                             index_t C, double label_smoothing) {
  if (N == 0) return NAN;  // the mean over no samples, as PyTorch answers
  const double keep = 1.0 - label_smoothing, spread = label_smoothing / double(C);
  // One loss per row, summed afterwards in row order: the result does not depend on the threads.
  std::vector<double> row_loss(N);
  const ElementwiseKernels<T>& k = elementwise_kernels<T>();
  parallel_for(N, N * C, [&](index_t i) {
    const T* x = logits + i * C;
    T* p = probs + i * C;
    T m;
    double s;
    k.softmax_row_exp(p, x, C, T(1), &m, &s);
    const double log_s = std::log(s);
    // log p_c = x_c - m - log s, in double so that the loss keeps its digits when p_c is tiny.
    double loss = 0.0;
    if (labels != nullptr) {
      loss -= keep * (double(x[labels[i]]) - m - log_s);
    } else {
      const T* t = targets + i * C;
      for (index_t c = 0; c < C; ++c) loss -= keep * t[c] * (double(x[c]) - m - log_s);
    }
    if (spread != 0.0) {
      double sum_logp = 0.0;
      for (index_t c = 0; c < C; ++c) sum_logp += double(x[c]) - m - log_s;
      loss -= spread * sum_logp;
    }
    k.scale(p, C, static_cast<T>(1.0 / s));
    row_loss[i] = loss;
  });
  double total = 0.0;
  for (double l : row_loss) total += l;
  return total / double(N);
}

template <class T>
void cross_entropy_backward(T* dlogits, const T* probs, const std::int64_t* labels, const T* targets, index_t N,
                            index_t C, double label_smoothing, double grad) {
  if (N == 0) return;
  const T scale = static_cast<T>(grad / double(N));
  const T keep = static_cast<T>(1.0 - label_smoothing), spread = static_cast<T>(label_smoothing / double(C));
  parallel_for(N, N * C, [&](index_t i) {
    const T* p = probs + i * C;
    T* d = dlogits + i * C;
    if (labels != nullptr) {
      const index_t y = labels[i];
      for (index_t c = 0; c < C; ++c) d[c] += scale * (p[c] - spread - (c == y ? keep : T(0)));
    } else {
      const T* t = targets + i * C;
      for (index_t c = 0; c < C; ++c) d[c] += scale * (p[c] - spread - keep * t[c]);
    }
  });
}

template <class T>
double mse_forward(const T* pred, const T* target, index_t n) {
  if (n == 0) return NAN;
  // Fixed chunks summed in order: the same total for any thread count.
  constexpr index_t kChunk = 8192;
  const index_t chunks = ceil_div(n, kChunk);
  std::vector<double> partial(chunks);
#pragma omp parallel for schedule(static) num_threads(num_threads()) if(parallel_worth(n) && chunks > 1)
  for (index_t k = 0; k < chunks; ++k) {
    double s = 0.0;
    for (index_t i = k * kChunk, e = std::min(n, (k + 1) * kChunk); i < e; ++i) {
      const double d = double(pred[i]) - double(target[i]);
      s += d * d;
    }
    partial[k] = s;
  }
  double total = 0.0;
  for (double s : partial) total += s;
  return total / double(n);
}

template <class T>
void mse_backward(T* dpred, const T* pred, const T* target, index_t n, double grad) {
  const T scale = static_cast<T>(2.0 * grad / double(n));
#pragma omp parallel for schedule(static) num_threads(num_threads()) if(parallel_worth(n))
  for (index_t i = 0; i < n; ++i) dpred[i] += scale * (pred[i] - target[i]);
}

#define NNTRAIN_INSTANTIATE(T)                                                                                 \
  template double cross_entropy_forward<T>(T*, const T*, const std::int64_t*, const T*, index_t, index_t,      \
                                           double);                                                            \
  template void cross_entropy_backward<T>(T*, const T*, const std::int64_t*, const T*, index_t, index_t, double, \
                                          double);                                                             \
  template double mse_forward<T>(const T*, const T*, index_t);                                                 \
  template void mse_backward<T>(T*, const T*, const T*, index_t, double);
NNTRAIN_INSTANTIATE(float)
NNTRAIN_INSTANTIATE(double)
#undef NNTRAIN_INSTANTIATE

}  // namespace nntrain
