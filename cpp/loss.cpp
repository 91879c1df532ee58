#include "loss.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "dispatch.h"

namespace nntrain {

namespace {

template <class T>
inline T class_weight_of(const CrossEntropyTarget<T>& t, index_t c) {
  return t.class_weight ? t.class_weight[c] : T(1);
}

inline bool ignored(const std::int64_t* labels, std::int64_t ignore_index, index_t i) {
  return labels != nullptr && labels[i] == ignore_index;
}

}  // namespace

template <class T>
double cross_entropy_forward(T* probs, double* row_loss, const T* logits, const CrossEntropyTarget<T>& t, index_t N,
                             index_t C) {
  const double keep = 1.0 - t.label_smoothing, spread = t.label_smoothing / double(C);
  const T* w = t.class_weight;
  const ElementwiseKernels<T>& k = elementwise_kernels<T>();
  parallel_for(N, N * C, [&](index_t i) {
    const T* x = logits + i * C;
    T* p = probs + i * C;
    T m;
    double s;
    k.softmax_row_exp(p, x, C, T(1), &m, &s);
    k.scale(p, C, static_cast<T>(1.0 / s));
    if (ignored(t.labels, t.ignore_index, i)) {
      row_loss[i] = 0.0;
      return;
    }
    // log p_c = x_c - m - log s, in double so that the loss keeps its digits when p_c is tiny.
    const double log_s = std::log(s);
    auto neg_logp = [&](index_t c) { return log_s + m - double(x[c]); };
    double loss = 0.0;
    if (t.labels != nullptr) {
      const index_t y = t.labels[i];
      loss += keep * double(class_weight_of(t, y)) * neg_logp(y);
    } else {
      const T* target = t.probs + i * C;
      for (index_t c = 0; c < C; ++c) loss += keep * double(class_weight_of(t, c)) * target[c] * neg_logp(c);
    }
    if (spread != 0.0) {
      double smooth = 0.0;
      for (index_t c = 0; c < C; ++c) smooth += double(w ? w[c] : T(1)) * neg_logp(c);
      loss += spread * smooth;
    }
    row_loss[i] = loss;
  });
  double total = 0.0;
  for (index_t i = 0; i < N; ++i) total += row_loss[i];
  return total;
}

template <class T>
double cross_entropy_divisor(const CrossEntropyTarget<T>& t, index_t N) {
  if (t.labels == nullptr) return double(N);
  double total = 0.0;
  for (index_t i = 0; i < N; ++i)
    if (t.labels[i] != t.ignore_index) total += double(class_weight_of(t, t.labels[i]));
  return total;
}

template <class T>
void cross_entropy_backward(T* dlogits, const T* probs, const CrossEntropyTarget<T>& t, const T* row_grad,
                            double grad, index_t N, index_t C, bool accumulate) {
  const T keep = static_cast<T>(1.0 - t.label_smoothing), spread = static_cast<T>(t.label_smoothing / double(C));
  const T* w = t.class_weight;
  double weight_sum = double(C);  // sum_c w_c, for the smoothing term of labels
  if (w != nullptr) {
    weight_sum = 0.0;
    for (index_t c = 0; c < C; ++c) weight_sum += w[c];
  }
  parallel_for(N, N * C, [&](index_t i) {
    T* d = dlogits + i * C;
    if (!accumulate) std::fill_n(d, C, T(0));  // the row's terms are added below
    if (ignored(t.labels, t.ignore_index, i)) return;
    const T g = row_grad ? row_grad[i] : static_cast<T>(grad);
    const T* p = probs + i * C;
    if (t.labels != nullptr) {
      const index_t y = t.labels[i];
      const T wy = class_weight_of(t, y);
      // (1 - e) w_y (p - onehot_y) + e/C (S p - w), S = sum_c w_c
      const T p_scale = keep * wy + spread * static_cast<T>(weight_sum);
      if (w == nullptr)
        for (index_t c = 0; c < C; ++c) d[c] += g * (p_scale * p[c] - spread);
      else
        for (index_t c = 0; c < C; ++c) d[c] += g * (p_scale * p[c] - spread * w[c]);
      d[y] -= g * keep * wy;
    } else {
      // (sum_c w_c t'_c) p - w t',  t' = (1 - e) t + e/C
      const T* target = t.probs + i * C;
      double wt = 0.0;
      for (index_t c = 0; c < C; ++c) wt += double(class_weight_of(t, c)) * (keep * target[c] + spread);
      const T p_scale = static_cast<T>(wt);
      for (index_t c = 0; c < C; ++c)
        d[c] += g * (p_scale * p[c] - class_weight_of(t, c) * (keep * target[c] + spread));
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
void mse_backward(T* dpred, const T* pred, const T* target, index_t n, double grad, bool accumulate) {
  const T scale = static_cast<T>(2.0 * grad / double(n));
#pragma omp parallel for schedule(static) num_threads(num_threads()) if(parallel_worth(n))
  for (index_t i = 0; i < n; ++i) dpred[i] = (accumulate ? dpred[i] : T(0)) + scale * (pred[i] - target[i]);
}

#define NNTRAIN_INSTANTIATE(T)                                                                                 \
  template double cross_entropy_forward<T>(T*, double*, const T*, const CrossEntropyTarget<T>&, index_t, index_t); \
  template double cross_entropy_divisor<T>(const CrossEntropyTarget<T>&, index_t);                              \
  template void cross_entropy_backward<T>(T*, const T*, const CrossEntropyTarget<T>&, const T*, double, index_t,   \
                                          index_t, bool);                                                       \
  template double mse_forward<T>(const T*, const T*, index_t);                                                 \
  template void mse_backward<T>(T*, const T*, const T*, index_t, double, bool);
NNTRAIN_INSTANTIATE(float)
NNTRAIN_INSTANTIATE(double)
#undef NNTRAIN_INSTANTIATE

}  // namespace nntrain
