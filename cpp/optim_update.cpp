#include "optim_update.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "dispatch.h"

namespace nntrain {

namespace {

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

// The thread of `team` that works on chunk c of an array of n chunks: contiguous shares of an array with
// at least one chunk per thread, thread 0 first (Linear's products share a weight's rows the same way);
// the chunks of smaller arrays go round the threads, continuing from `turn` (counted over those arrays).
inline int owner_of(index_t c, index_t n, int team, index_t turn) {
  if (n < team) return static_cast<int>((turn + c) % team);
  return static_cast<int>(((c + 1) * team - 1) / n);  // the t with n t / team <= c < n (t + 1) / team
}

// Runs body(k) for each work item k of `items` (index into it), each thread its own items as owner_of says,
// in ONE parallel region; the partition is the same in every call with the same sizes.
template <class F>
void for_each_item(const std::vector<Chunk>& items, const index_t* sizes, index_t count, F&& body) {
#pragma omp parallel num_threads(num_threads()) if(parallel_worth(total_size(sizes, count)) && items.size() > 1)
  {
    const int team = team_size(), me = current_thread();
    index_t k = 0, turn = 0;
    for (index_t i = 0; i < count; ++i) {
      const index_t n = ceil_div(sizes[i], kOptimChunk);
      for (index_t c = 0; c < n; ++c, ++k)
        if (owner_of(c, n, team, turn) == me) body(k);
      if (n < team) turn += n;
    }
  }
}

// Runs body(array, begin, end) over every work item, in ONE parallel region.
template <class F>
void for_each_chunk(const index_t* sizes, index_t count, F&& body) {
  const std::vector<Chunk> items = chunks_of(sizes, count);
  for_each_item(items, sizes, count, [&](index_t k) { body(items[k].array, items[k].begin, items[k].end); });
}

// Array i of a nullable list, from element `offset` (a state list that is not in use stays null).
template <class T>
inline T* at_list(T* const* list, index_t i, index_t offset) {
  return list ? list[i] + offset : nullptr;
}

// sums (count) = sum of squares of each array: chunk sums computed in parallel, then added per array in
// chunk order, so the partition (and the result) does not depend on the thread count.
template <class T>
void sums_of_squares(double* sums, const T* const* arrays, const index_t* sizes, index_t count) {
  double (*const sum_squares)(const T*, index_t) = optim_kernels<T>().sum_squares;
  const std::vector<Chunk> items = chunks_of(sizes, count);
  const index_t n_items = static_cast<index_t>(items.size());
  std::vector<double> partial(items.size());
  for_each_item(items, sizes, count, [&](index_t k) {
    partial[k] = sum_squares(arrays[items[k].array] + items[k].begin, items[k].end - items[k].begin);
  });
  std::fill_n(sums, count, 0.0);
  for (index_t k = 0; k < n_items; ++k) sums[items[k].array] += partial[k];
}

}  // namespace

// ---- many arrays -----------------------------------------------------------------------------------

template <class T>
void sgd_update_list(T* const* params, T* const* momentum_bufs, const T* const* grads, const index_t* sizes,
                     index_t count, double lr, double momentum, double dampening, double weight_decay,
                     bool nesterov, bool first_step) {
  const OptimKernels<T>& kern = optim_kernels<T>();
  for_each_chunk(sizes, count, [&](index_t i, index_t b, index_t e) {
    kern.sgd(params[i] + b, at_list(momentum_bufs, i, b), grads[i] + b, e - b, lr, momentum, dampening,
                  weight_decay, nesterov, first_step);
  });
}

template <class T>
void adagrad_update_list(T* const* params, T* const* state_sums, const T* const* grads, const index_t* sizes,
                         index_t count, double lr, double lr_decay, double weight_decay, double eps,
                         std::int64_t step) {
  const OptimKernels<T>& kern = optim_kernels<T>();
  for_each_chunk(sizes, count, [&](index_t i, index_t b, index_t e) {
    kern.adagrad(params[i] + b, state_sums[i] + b, grads[i] + b, e - b, lr, lr_decay, weight_decay, eps,
                      step);
  });
}

template <class T>
void rmsprop_update_list(T* const* params, T* const* square_avgs, T* const* momentum_bufs, T* const* grad_avgs,
                         const T* const* grads, const index_t* sizes, index_t count, double lr, double alpha,
                         double eps, double weight_decay, double momentum, bool centered) {
  const OptimKernels<T>& kern = optim_kernels<T>();
  for_each_chunk(sizes, count, [&](index_t i, index_t b, index_t e) {
    kern.rmsprop(params[i] + b, square_avgs[i] + b, at_list(momentum_bufs, i, b), at_list(grad_avgs, i, b),
                      grads[i] + b, e - b, lr, alpha, eps, weight_decay, momentum, centered);
  });
}

template <class T>
void adam_update_list(T* const* params, T* const* exp_avgs, T* const* exp_avg_sqs, const T* const* grads,
                      const index_t* sizes, index_t count, double lr, double beta1, double beta2, double eps,
                      double weight_decay, std::int64_t step, bool decoupled) {
  const OptimKernels<T>& kern = optim_kernels<T>();
  for_each_chunk(sizes, count, [&](index_t i, index_t b, index_t e) {
    kern.adam(params[i] + b, exp_avgs[i] + b, exp_avg_sqs[i] + b, grads[i] + b, e - b, lr, beta1, beta2,
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
