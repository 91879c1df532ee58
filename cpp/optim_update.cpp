#include "optim_update.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace nntrain {

namespace {

// Each line below mirrors one PyTorch tensor op, evaluated as its CPU kernel does:
//   a.add(b, alpha=s)          a + s*b
//   a.addcmul(b, c, value=s)   a + (s*b)*c
//   a.addcdiv(b, c, value=s)   a + (s*b)/c
//   a.lerp(b, w)               torch's two-sided form below
// so float32 results round like PyTorch's (up to the FMA contractions PyTorch's vector code may use).
template <class T>
inline T lerp(T self, T end, T weight) {
  return std::abs(weight) < T(0.5) ? self + weight * (end - self) : end - (end - self) * (T(1) - weight);
}

struct Chunk {
  index_t array, begin, end;
};

// The (array, chunk) work items of a list of arrays, in list order then element order; empty arrays
// contribute none.
std::vector<Chunk> chunks_of(const index_t* sizes, index_t count) {
  std::vector<Chunk> items;
  for (index_t i = 0; i < count; ++i)
    for (index_t b = 0; b < sizes[i]; b += kOptimChunk) items.push_back({i, b, std::min(sizes[i], b + kOptimChunk)});
  return items;
}

index_t total_size(const index_t* sizes, index_t count) {
  index_t total = 0;
  for (index_t i = 0; i < count; ++i) total += sizes[i];
  return total;
}

// Runs body(array, begin, end) over every work item, in ONE parallel region with a static schedule.
template <class F>
void for_each_chunk(const index_t* sizes, index_t count, F&& body) {
  const std::vector<Chunk> items = chunks_of(sizes, count);
  const index_t n_items = static_cast<index_t>(items.size());
#pragma omp parallel for schedule(static) num_threads(num_threads()) if(parallel_worth(total_size(sizes, count)) && n_items > 1)
  for (index_t k = 0; k < n_items; ++k) body(items[k].array, items[k].begin, items[k].end);
}

// Array i of a nullable list, from element `offset` (a state list that is not in use stays null).
template <class T>
inline T* at_list(T* const* list, index_t i, index_t offset) {
  return list ? list[i] + offset : nullptr;
}

// Sum of squares of x (n) in double. Eight interleaved accumulators keep the loop vectorisable without
// reassociation by the compiler; they are combined in a fixed order, so the result depends on n only.
template <class T>
double sum_squares(const T* x, index_t n) {
  constexpr int kLanes = 8;
  double acc[kLanes] = {};
  index_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int j = 0; j < kLanes; ++j) {
      const double v = static_cast<double>(x[i + j]);
      acc[j] += v * v;
    }
  for (; i < n; ++i) {
    const double v = static_cast<double>(x[i]);
    acc[0] += v * v;
  }
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

// sums (count) = sum of squares of each array: chunk sums computed in parallel, then added per array in
// chunk order, so the partition (and the result) does not depend on the thread count.
template <class T>
void sums_of_squares(double* sums, const T* const* arrays, const index_t* sizes, index_t count) {
  const std::vector<Chunk> items = chunks_of(sizes, count);
  const index_t n_items = static_cast<index_t>(items.size());
  std::vector<double> partial(items.size());
#pragma omp parallel for schedule(static) num_threads(num_threads()) if(parallel_worth(total_size(sizes, count)) && n_items > 1)
  for (index_t k = 0; k < n_items; ++k)
    partial[k] = sum_squares(arrays[items[k].array] + items[k].begin, items[k].end - items[k].begin);
  std::fill_n(sums, count, 0.0);
  for (index_t k = 0; k < n_items; ++k) sums[items[k].array] += partial[k];
}

}  // namespace

// ---- one array -----------------------------------------------------------------------------------

template <class T>
void sgd_update(T* param, T* momentum_buf, const T* grad, index_t n, double lr, double momentum,
                double dampening, double weight_decay, bool nesterov, bool first_step) {
  // param, momentum_buf, grad (n) -> param, momentum_buf (n)
  const T wd = T(weight_decay), mom = T(momentum), keep = T(1.0 - dampening), neg_lr = T(-lr);
  const bool decay = weight_decay != 0, use_momentum = momentum != 0;
  for (index_t i = 0; i < n; ++i) {
    T g = grad[i];
    if (decay) g = g + wd * param[i];
    if (use_momentum) {
      const T buf = first_step ? g : momentum_buf[i] * mom + keep * g;
      momentum_buf[i] = buf;
      g = nesterov ? g + mom * buf : buf;
    }
    param[i] = param[i] + neg_lr * g;
  }
}

template <class T>
void adagrad_update(T* param, T* state_sum, const T* grad, index_t n, double lr, double lr_decay,
                    double weight_decay, double eps, std::int64_t step) {
  // param, state_sum, grad (n) -> param, state_sum (n)
  const double clr = lr / (1 + static_cast<double>(step - 1) * lr_decay);
  const T wd = T(weight_decay), e = T(eps), neg_clr = T(-clr);
  const bool decay = weight_decay != 0;
  for (index_t i = 0; i < n; ++i) {
    T g = grad[i];
    if (decay) g = g + wd * param[i];
    const T sum = state_sum[i] + g * g;
    state_sum[i] = sum;
    param[i] = param[i] + neg_clr * g / (std::sqrt(sum) + e);
  }
}

namespace {
// The options are template arguments so that each variant is a branch-free loop the compiler vectorises.
template <class T, bool kCentered, bool kMomentum>
void rmsprop_loop(T* param, T* square_avg, T* momentum_buf, T* grad_avg, const T* grad, index_t n, double lr,
                  double alpha, double eps, double weight_decay, double momentum) {
  const T wd = T(weight_decay), a = T(alpha), one_minus_a = T(1.0 - alpha), e = T(eps), mom = T(momentum),
          neg_lr = T(-lr);
  const bool decay = weight_decay != 0;
  for (index_t i = 0; i < n; ++i) {
    T g = grad[i];
    if (decay) g = g + wd * param[i];
    const T sq = square_avg[i] * a + one_minus_a * g * g;
    square_avg[i] = sq;
    T avg;
    if constexpr (kCentered) {
      const T ga = lerp(grad_avg[i], g, one_minus_a);
      grad_avg[i] = ga;
      avg = std::sqrt(sq - ga * ga) + e;
    } else {
      avg = std::sqrt(sq) + e;
    }
    if constexpr (kMomentum) {
      const T buf = momentum_buf[i] * mom + g / avg;
      momentum_buf[i] = buf;
      param[i] = param[i] + neg_lr * buf;
    } else {
      param[i] = param[i] + neg_lr * g / avg;
    }
  }
}
}  // namespace

template <class T>
void rmsprop_update(T* param, T* square_avg, T* momentum_buf, T* grad_avg, const T* grad, index_t n, double lr,
                    double alpha, double eps, double weight_decay, double momentum, bool centered) {
  // param, square_avg, momentum_buf, grad_avg, grad (n) -> param, square_avg, momentum_buf, grad_avg (n)
  auto loop = centered ? (momentum > 0 ? rmsprop_loop<T, true, true> : rmsprop_loop<T, true, false>)
                       : (momentum > 0 ? rmsprop_loop<T, false, true> : rmsprop_loop<T, false, false>);
  loop(param, square_avg, momentum_buf, grad_avg, grad, n, lr, alpha, eps, weight_decay, momentum);
}

template <class T>
void adam_update(T* param, T* exp_avg, T* exp_avg_sq, const T* grad, index_t n, double lr, double beta1,
                 double beta2, double eps, double weight_decay, std::int64_t step, bool decoupled) {
  // param, exp_avg, exp_avg_sq, grad (n) -> param, exp_avg, exp_avg_sq (n)
  const double bias_correction1 = 1 - std::pow(beta1, static_cast<double>(step));
  const double bias_correction2 = 1 - std::pow(beta2, static_cast<double>(step));
  const T wd = T(weight_decay), shrink = T(1 - lr * weight_decay), one_minus_b1 = T(1 - beta1), b2 = T(beta2),
          one_minus_b2 = T(1 - beta2), e = T(eps), neg_step_size = T(-(lr / bias_correction1)),
          bc2_sqrt = T(std::sqrt(bias_correction2));
  const bool decay = weight_decay != 0;
  for (index_t i = 0; i < n; ++i) {
    T g = grad[i], p = param[i];
    if (decay) {
      if (decoupled) p = p * shrink;
      else g = g + wd * p;
    }
    const T m = lerp(exp_avg[i], g, one_minus_b1);
    const T v = exp_avg_sq[i] * b2 + one_minus_b2 * g * g;
    exp_avg[i] = m;
    exp_avg_sq[i] = v;
    param[i] = p + neg_step_size * m / (std::sqrt(v) / bc2_sqrt + e);
  }
}

// ---- many arrays -----------------------------------------------------------------------------------

template <class T>
void sgd_update_list(T* const* params, T* const* momentum_bufs, const T* const* grads, const index_t* sizes,
                     index_t count, double lr, double momentum, double dampening, double weight_decay,
                     bool nesterov, bool first_step) {
  for_each_chunk(sizes, count, [&](index_t i, index_t b, index_t e) {
    sgd_update<T>(params[i] + b, at_list(momentum_bufs, i, b), grads[i] + b, e - b, lr, momentum, dampening,
                  weight_decay, nesterov, first_step);
  });
}

template <class T>
void adagrad_update_list(T* const* params, T* const* state_sums, const T* const* grads, const index_t* sizes,
                         index_t count, double lr, double lr_decay, double weight_decay, double eps,
                         std::int64_t step) {
  for_each_chunk(sizes, count, [&](index_t i, index_t b, index_t e) {
    adagrad_update<T>(params[i] + b, state_sums[i] + b, grads[i] + b, e - b, lr, lr_decay, weight_decay, eps,
                      step);
  });
}

template <class T>
void rmsprop_update_list(T* const* params, T* const* square_avgs, T* const* momentum_bufs, T* const* grad_avgs,
                         const T* const* grads, const index_t* sizes, index_t count, double lr, double alpha,
                         double eps, double weight_decay, double momentum, bool centered) {
  for_each_chunk(sizes, count, [&](index_t i, index_t b, index_t e) {
    rmsprop_update<T>(params[i] + b, square_avgs[i] + b, at_list(momentum_bufs, i, b), at_list(grad_avgs, i, b),
                      grads[i] + b, e - b, lr, alpha, eps, weight_decay, momentum, centered);
  });
}

template <class T>
void adam_update_list(T* const* params, T* const* exp_avgs, T* const* exp_avg_sqs, const T* const* grads,
                      const index_t* sizes, index_t count, double lr, double beta1, double beta2, double eps,
                      double weight_decay, std::int64_t step, bool decoupled) {
  for_each_chunk(sizes, count, [&](index_t i, index_t b, index_t e) {
    adam_update<T>(params[i] + b, exp_avgs[i] + b, exp_avg_sqs[i] + b, grads[i] + b, e - b, lr, beta1, beta2,
                   eps, weight_decay, step, decoupled);
  });
}

// ---- norms ----------------------------------------------------------------------------------------

template <class T>
void array_norms(double* norms, const T* const* arrays, const index_t* sizes, index_t count) {
  sums_of_squares(norms, arrays, sizes, count);
  for (index_t i = 0; i < count; ++i) norms[i] = std::sqrt(norms[i]);
}

template <class T>
double grad_norm(const T* const* arrays, const index_t* sizes, index_t count) {
  std::vector<double> sums(static_cast<std::size_t>(count));
  sums_of_squares(sums.data(), arrays, sizes, count);
  double total = 0.0;
  for (double s : sums) total += s;
  return std::sqrt(total);
}

template <class T>
double clip_grad_norm(T* const* grads, const index_t* sizes, index_t count, double max_norm) {
  const double total = grad_norm<T>(grads, sizes, count);
  const double coef = max_norm / (total + 1e-6);
  // `coef < 1` is false for a NaN norm: the gradients stay as they are and the NaN is reported.
  if (coef < 1) {
    const T c = T(coef);
    for_each_chunk(sizes, count, [&](index_t i, index_t b, index_t e) {
      T* g = grads[i];
      for (index_t j = b; j < e; ++j) g[j] = g[j] * c;
    });
  }
  return total;
}

// ---- instantiations -------------------------------------------------------------------------------

#define NN_OPTIM_INSTANTIATE(T)                                                                               \
  template void sgd_update<T>(T*, T*, const T*, index_t, double, double, double, double, bool, bool);         \
  template void adagrad_update<T>(T*, T*, const T*, index_t, double, double, double, double, std::int64_t);   \
  template void rmsprop_update<T>(T*, T*, T*, T*, const T*, index_t, double, double, double, double, double,  \
                                  bool);                                                                      \
  template void adam_update<T>(T*, T*, T*, const T*, index_t, double, double, double, double, double,         \
                               std::int64_t, bool);                                                           \
  template void sgd_update_list<T>(T* const*, T* const*, const T* const*, const index_t*, index_t, double,    \
                                   double, double, double, bool, bool);                                       \
  template void adagrad_update_list<T>(T* const*, T* const*, const T* const*, const index_t*, index_t, double, \
                                       double, double, double, std::int64_t);                                 \
  template void rmsprop_update_list<T>(T* const*, T* const*, T* const*, T* const*, const T* const*,           \
                                       const index_t*, index_t, double, double, double, double, double, bool); \
  template void adam_update_list<T>(T* const*, T* const*, T* const*, const T* const*, const index_t*, index_t, \
                                    double, double, double, double, double, std::int64_t, bool);              \
  template void array_norms<T>(double*, const T* const*, const index_t*, index_t);                            \
  template double grad_norm<T>(const T* const*, const index_t*, index_t);                                     \
  template double clip_grad_norm<T>(T* const*, const index_t*, index_t, double);

NN_OPTIM_INSTANTIATE(float)
NN_OPTIM_INSTANTIATE(double)
#undef NN_OPTIM_INSTANTIATE

}  // namespace nntrain
