// Optimiser updates and gradient norms, the formulas of PyTorch 2.x (torch.optim.SGD, Adagrad, RMSprop,
// Adam, AdamW; torch.nn.utils.clip_grad_norm_), evaluated in the same order so results agree with
// PyTorch to rounding.
//
// Each rule is a kernel over one flat array (kernels/optim.h, one table per instruction set), updating the
// parameter and its state in place. The *_list
// drivers run a rule over many arrays in ONE parallel region: every array is cut into chunks of
// kOptimChunk elements, and each thread takes the same contiguous share of every array's chunks, step after
// step: its share of a weight's rows, the share Linear's products give it (gemm.h, GemmSplit), so W, dW
// and the state stay in that core's cache. Arrays of fewer chunks than threads (biases) go to the threads
// in turn. Updates are element-wise, hence
// bit-identical for any thread count. Norms sum squares in double per chunk and add the chunk sums in a
// fixed order, so they are bit-identical for any thread count too. NaN and Inf propagate.
//
// Hyper-parameters arrive as double; like PyTorch, values derived from them (lr / bias_correction1,
// 1 - dampening, ...) are computed in double and then rounded once to the array's scalar type.
// The kernels do not validate: the bindings check every hyper-parameter first.
#pragma once

#include "common.h"

namespace nntrain {

// Elements per work item; also the partition of the norm sums (changing it changes norms' last bits).
constexpr index_t kOptimChunk = 4096;

// ---- many arrays in one call: array i has sizes[i] elements; the rule of each is in kernels/optim.h
// (state lists may be null where it says a state array may be). Given `norm`, an update first takes the
// gradients' norm (*norm := grad_norm(grads, ...), bit for bit) in the same parallel region, and updates
// only when it is finite: the non-finite check a training step needs, without a pass of its own. --------

template <class T>
void sgd_update_list(T* const* params, T* const* momentum_bufs, const T* const* grads, const index_t* sizes,
                     index_t count, double lr, double momentum, double dampening, double weight_decay,
                     bool nesterov, bool first_step, double* norm = nullptr);

template <class T>
void adagrad_update_list(T* const* params, T* const* state_sums, const T* const* grads, const index_t* sizes,
                         index_t count, double lr, double lr_decay, double weight_decay, double eps,
                         std::int64_t step, double* norm = nullptr);

template <class T>
void rmsprop_update_list(T* const* params, T* const* square_avgs, T* const* momentum_bufs, T* const* grad_avgs,
                         const T* const* grads, const index_t* sizes, index_t count, double lr, double alpha,
                         double eps, double weight_decay, double momentum, bool centered,
                         double* norm = nullptr);

template <class T>
void adam_update_list(T* const* params, T* const* exp_avgs, T* const* exp_avg_sqs, const T* const* grads,
                      const index_t* sizes, index_t count, double lr, double beta1, double beta2, double eps,
                      double weight_decay, std::int64_t step, bool decoupled, double* norm = nullptr);

// ---- norms ----------------------------------------------------------------------------------------

// arrays (count lists of sizes[i]) -> norms (count): the L2 norm of each array.
template <class T>
void array_norms(double* norms, const T* const* arrays, const index_t* sizes, index_t count);

// arrays -> sqrt of the sum of squares of every element of every array (0 for no elements).
template <class T>
double grad_norm(const T* const* arrays, const index_t* sizes, index_t count);

// grads -> grads scaled in place by coef = max_norm / (total + 1e-6) when coef < 1, where total is
// grad_norm(grads); returns total (the norm before clipping). A NaN total leaves the gradients alone.
template <class T>
double clip_grad_norm(T* const* grads, const index_t* sizes, index_t count, double max_norm);

}  // namespace nntrain
