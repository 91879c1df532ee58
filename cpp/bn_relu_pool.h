// BatchNorm, then ReLU, then 2x2 max-pooling with stride 2 over x (N, C, H, W) -- the tail of every
// stage of a small CNN -- in one pass each way instead of three, as a forward/backward pair:
//
//   bn_relu_pool_forward (out, code, mean, invstd, running_mean, running_var, x, weight, bias,
//                         N, C, H, W, training, momentum, eps)
//   bn_relu_pool_backward(dx, dweight, dbias, dout, code, x, weight, mean, invstd, N, C, H, W, training)
//
//   out (N, C, H/2, W/2) = max over each 2x2 window of max(weight xhat + bias, 0),  xhat = (x - mean) invstd
//   code (same shape, int8) = where the gradient of that output goes: the window position 0..3 (row-major)
//       of the maximum, or -1 when the maximum is not > 0 (the ReLU passes no gradient there)
//
// The statistics, running averages, mean and invstd are those of batch_norm_forward (batch_norm.h), and
// the maximum and its position follow max_pool2d's rule (the first of equal values; NaN wins), so the
// results are those of the three ops in a row. Backward accumulates (+=) like every backward:
//   dy = dout at the coded position of each window, 0 elsewhere (the rows and columns a window never
//   covers when H or W is odd included);  dx, dweight, dbias = batch_norm_backward of dy.
// The forward never writes the normalised image itself; the backward reads x and the int8 codes.
#pragma once

#include <cstdint>

#include "common.h"

namespace nntrain {

template <class T>
void bn_relu_pool_forward(T* out, std::int8_t* code, T* mean, T* invstd, T* running_mean, T* running_var, const T* x,
                          const T* weight, const T* bias, index_t N, index_t C, index_t H, index_t W, bool training,
                          double momentum, double eps);

template <class T>
void bn_relu_pool_backward(T* dx, T* dweight, T* dbias, const T* dout, const std::int8_t* code, const T* x,
                           const T* weight, const T* mean, const T* invstd, index_t N, index_t C, index_t H, index_t W,
                           bool training);

}  // namespace nntrain
