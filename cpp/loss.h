// Losses, mean-reduced, as forward/backward pairs of the same shape. Forward returns the loss (double);
// backward adds d(grad * loss)/d(prediction) into dinp.
//
// Cross-entropy is fused with softmax: forward writes probs = softmax(logits) (N, C), which is all
// backward needs. The target is either integer labels (N) in [0, C) (the caller checks the range)
// or a probability row per sample (N, C), e.g. one-hot; exactly one of labels/targets is non-null.
// Label smoothing e mixes the target with the uniform distribution: t' = (1 - e) t + e / C.
//
//   loss = -1/N sum_i sum_c t'_ic log p_ic          dlogits += grad / N * (p - t')
//
// MSE: loss = 1/n sum (pred - target)^2             dpred += grad * 2/n * (pred - target)
#pragma once

#include <cstdint>

#include "common.h"

namespace nntrain {

template <class T>
double cross_entropy_forward(T* probs, const T* logits, const std::int64_t* labels, const T* targets, index_t N,
                             index_t C, double label_smoothing);
template <class T>
void cross_entropy_backward(T* dlogits, const T* probs, const std::int64_t* labels, const T* targets, index_t N,
                            index_t C, double label_smoothing, double grad);

template <class T>
double mse_forward(const T* pred, const T* target, index_t n);
template <class T>
void mse_backward(T* dpred, const T* pred, const T* target, index_t n, double grad);

}  // namespace nntrain
