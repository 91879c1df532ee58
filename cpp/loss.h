// Losses as forward/backward pairs of the same shape. Backward adds d(grad * loss)/d(prediction) into
// its output, like every backward.
//
// Cross-entropy is fused with softmax over rows of C logits (the caller moves the class axis of an
// (N, C, d1, ...) input last, giving N*d1*... rows). Forward writes probs = softmax(logits) (N, C), which
// is all backward needs, and each row's loss. The target (CrossEntropyTarget) is either integer labels
// (N), each in [0, C) or equal to ignore_index (a row that counts nowhere), or a probability row per
// sample (N, C), e.g. one-hot; optional class weights w (C), 1 when absent. Label smoothing e mixes the
// target with the uniform distribution, as PyTorch does:
//
//   labels:         L_i = (1 - e) w_y (-log p_iy) + e/C sum_c w_c (-log p_ic)      (0 if y = ignore_index)
//                   dL_i/dz_i = (1 - e) w_y (p_i - onehot_y) + e/C (sum_c w_c p_i - w)
//   probabilities:  t' = (1 - e) t + e/C,  L_i = -sum_c w_c t'_ic log p_ic
//                   dL_i/dz_i = (sum_c w_c t'_ic) p_i - w t'_i
//
// The mean divides the sum of the L_i by cross_entropy_divisor: sum of w_y over the rows not ignored
// (their count without weights), or N for probability targets -- PyTorch's weighted mean.
//
// MSE: loss = 1/n sum (pred - target)^2             dpred += grad * 2/n * (pred - target)
#pragma once

#include <cstdint>

#include "common.h"

namespace nntrain {

template <class T>
struct CrossEntropyTarget {
  const std::int64_t* labels = nullptr;  // (N): exactly one of labels / probs is non-null
  const T* probs = nullptr;              // (N, C)
  const T* class_weight = nullptr;       // (C), or null for 1
  std::int64_t ignore_index = -100;      // labels only
  double label_smoothing = 0.0;
};

// Writes probs (N, C) and row_loss (N); returns sum_i row_loss[i], summed in row order.
template <class T>
double cross_entropy_forward(T* probs, double* row_loss, const T* logits, const CrossEntropyTarget<T>& target,
                             index_t N, index_t C);
template <class T>
double cross_entropy_divisor(const CrossEntropyTarget<T>& target, index_t N);
// dlogits_i (+)= g_i dL_i/dz_i, with g_i = row_grad[i], or `grad` for every row when row_grad is null;
// written (an ignored row's zeros too), or added to when accumulating.
template <class T>
void cross_entropy_backward(T* dlogits, const T* probs, const CrossEntropyTarget<T>& target, const T* row_grad,
                            double grad, index_t N, index_t C, bool accumulate);

template <class T>
double mse_forward(const T* pred, const T* target, index_t n);
template <class T>
void mse_backward(T* dpred, const T* pred, const T* target, index_t n, double grad, bool accumulate);

}  // namespace nntrain
