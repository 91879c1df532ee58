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

// Runs body(k) for each work item k (an index into chunks_of's list) that thread `me` of `team` owns.
template <class F>
void for_own_items(const index_t* sizes, index_t count, int team, int me, F&& body) {
  index_t k = 0, turn = 0;
  for (index_t i = 0; i < count; ++i) {
    const index_t n = ceil_div(sizes[i], kOptimChunk);
    for (index_t c = 0; c < n; ++c, ++k)
      if (owner_of(c, n, team, turn) == me) body(k);
    if (n < team) turn += n;
  }
}

inline bool worth_threads(const std::vector<Chunk>& items, const index_t* sizes, index_t count) {
  return parallel_worth(total_size(sizes, count)) && items.size() > 1;
}

// Runs body(k) for every work item k, each thread its own, in ONE parallel region.
template <class F>
void for_each_item(const std::vector<Chunk>& items, const index_t* sizes, index_t count, F&& body) {
#pragma omp parallel num_threads(num_threads()) if(worth_threads(items, sizes, count))
  for_own_items(sizes, count, team_size(), current_thread(), body);
}

// Runs body(array, begin, end) over every work item, in ONE parallel region.
template <class F>
void for_each_chunk(const index_t* sizes, index_t count, F&& body) {
  const std::vector<Chunk> items = chunks_of(sizes, count);
  for_each_item(items, sizes, count, [&](index_t k) { body(items[k].array, items[k].begin, items[k].end); });
}

// The sum of squares of work item `item`'s values.
template <class T>
inline double item_squares(const T* const* arrays, const Chunk& item) {
  return optim_kernels<T>().sum_squares(arrays[item.array] + item.begin, item.end - item.begin);
}

// Each work item's sum of squares, the threads taking their own items.
template <class T>
std::vector<double> chunk_sums(const T* const* arrays, const index_t* sizes, index_t count,
                               const std::vector<Chunk>& items) {
  std::vector<double> partial(items.size());
  for_each_item(items, sizes, count, [&](index_t k) { partial[k] = item_squares(arrays, items[k]); });
  return partial;
}

// sums (count) := the chunk sums `partial` added per array in chunk order: the same for any partition.
void add_by_array(double* sums, const std::vector<Chunk>& items, const std::vector<double>& partial, index_t count) {
  std::fill_n(sums, count, 0.0);
  for (std::size_t k = 0; k < items.size(); ++k) sums[items[k].array] += partial[k];
}

// The norm of all arrays from their chunk sums: the per-array sums added in list order.
double norm_of(const std::vector<Chunk>& items, const std::vector<double>& partial, index_t count) {
  std::vector<double> sums(static_cast<std::size_t>(count));
  add_by_array(sums.data(), items, partial, count);
  double total = 0.0;
  for (double s : sums) total += s;
  return std::sqrt(total);
}

// An optimiser's update, body(array, begin, end) over every chunk in ONE parallel region. With `norm`:
// first the gradients' norm (grad_norm's value, bit for bit), each thread summing the squares of its own
// chunks; the threads meet once; then the update runs only when the norm is finite, each thread on the
// chunks it has just read, still in its cache. A NaN or Inf gradient leaves every array as it was.
template <class T, class F>
void update_chunks(const T* const* grads, const index_t* sizes, index_t count, double* norm, F&& body) {
  const std::vector<Chunk> items = chunks_of(sizes, count);
  std::vector<double> partial(norm ? items.size() : 0);
#pragma omp parallel num_threads(num_threads()) if(worth_threads(items, sizes, count))
  {
    const int team = team_size(), me = current_thread();
    bool finite = true;
    if (norm) {
      for_own_items(sizes, count, team, me, [&](index_t k) { partial[k] = item_squares(grads, items[k]); });
#pragma omp barrier
      // every thread adds the same sums in the same order: one barrier, no second one to hand out a result
      const double total = norm_of(items, partial, count);
      if (me == 0) *norm = total;
      finite = std::isfinite(total);
    }
    if (finite)
      for_own_items(sizes, count, team, me, [&](index_t k) { body(items[k].array, items[k].begin, items[k].end); });
  }
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
  const std::vector<Chunk> items = chunks_of(sizes, count);
  add_by_array(sums, items, chunk_sums(arrays, sizes, count, items), count);
}

}  // namespace

// ---- many arrays -----------------------------------------------------------------------------------

template <class T>
void sgd_update_list(T* const* params, T* const* momentum_bufs, const T* const* grads, const index_t* sizes,
                     index_t count, double lr, double momentum, double dampening, double weight_decay,
                     bool nesterov, bool first_step, double* norm) {
  const OptimKernels<T>& kern = optim_kernels<T>();
  update_chunks(grads, sizes, count, norm, [&](index_t i, index_t b, index_t e) {
    kern.sgd(params[i] + b, at_list(momentum_bufs, i, b), grads[i] + b, e - b, lr, momentum, dampening,
                  weight_decay, nesterov, first_step);
  });
}

template <class T>
void adagrad_update_list(T* const* params, T* const* state_sums, const T* const* grads, const index_t* sizes,
                         index_t count, double lr, double lr_decay, double weight_decay, double eps,
                         std::int64_t step, double* norm) {
  const OptimKernels<T>& kern = optim_kernels<T>();
  update_chunks(grads, sizes, count, norm, [&](index_t i, index_t b, index_t e) {
    kern.adagrad(params[i] + b, state_sums[i] + b, grads[i] + b, e - b, lr, lr_decay, weight_decay, eps,
                      step);
  });
}

template <class T>
void rmsprop_update_list(T* const* params, T* const* square_avgs, T* const* momentum_bufs, T* const* grad_avgs,
                         const T* const* grads, const index_t* sizes, index_t count, double lr, double alpha,
                         double eps, double weight_decay, double momentum, bool centered, double* norm) {
  const OptimKernels<T>& kern = optim_kernels<T>();
  update_chunks(grads, sizes, count, norm, [&](index_t i, index_t b, index_t e) {
    kern.rmsprop(params[i] + b, square_avgs[i] + b, at_list(momentum_bufs, i, b), at_list(grad_avgs, i, b),
                      grads[i] + b, e - b, lr, alpha, eps, weight_decay, momentum, centered);
  });
}

template <class T>
void adam_update_list(T* const* params, T* const* exp_avgs, T* const* exp_avg_sqs, const T* const* grads,
                      const index_t* sizes, index_t count, double lr, double beta1, double beta2, double eps,
                      double weight_decay, std::int64_t step, bool decoupled, double* norm) {
  const OptimKernels<T>& kern = optim_kernels<T>();
  update_chunks(grads, sizes, count, norm, [&](index_t i, index_t b, index_t e) {
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
  const std::vector<Chunk> items = chunks_of(sizes, count);
  return norm_of(items, chunk_sums(arrays, sizes, count, items), count);
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
                                   double, double, double, bool, bool, double*);                               \
  template void adagrad_update_list<T>(T* const*, T* const*, const T* const*, const index_t*, index_t, double, \
                                       double, double, double, std::int64_t, double*);                        \
  template void rmsprop_update_list<T>(T* const*, T* const*, T* const*, T* const*, const T* const*,           \
                                       const index_t*, index_t, double, double, double, double, double, bool,  \
                                       double*);                                                              \
  template void adam_update_list<T>(T* const*, T* const*, T* const*, const T* const*, const index_t*, index_t, \
                                    double, double, double, double, double, std::int64_t, bool, double*);     \
  template void array_norms<T>(double*, const T* const*, const index_t*, index_t);                            \
  template double grad_norm<T>(const T* const*, const index_t*, index_t);                                     \
  template double clip_grad_norm<T>(T* const*, const index_t*, index_t, double);

NN_OPTIM_INSTANTIATE(float)
NN_OPTIM_INSTANTIATE(double)
#undef NN_OPTIM_INSTANTIATE

}  // namespace nntrain
