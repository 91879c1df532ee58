// Batch normalisation over the channels of x (N, C, S), S = H*W for images and 1 for (N, C) features,
// as a forward/backward pair of the same shape:
//
//   batch_norm_forward (out, mean, invstd, running_mean, running_var, x, weight, bias, N, C, S, training,
//                       momentum, eps)
//   batch_norm_backward(dx, dweight, dbias, dout, x, weight, mean, invstd, N, C, S, training, relu_out,
//                       accumulate)
//
// Training normalises with the batch statistics over the M = N*S values of a channel and moves the running
// averages towards them: running = (1 - momentum) running + momentum * stat, with the unbiased variance
// (M / (M - 1)) as PyTorch does; running pointers may be null (no tracking). Evaluation normalises with
// the running statistics. Either way forward writes the mean and 1/sqrt(var + eps) it used, which is all
// backward needs:
//   xhat = (x - mean) invstd,  out = weight xhat + bias   (weight/bias null = 1/0)
//   dweight += sum dout xhat,  dbias += sum dout
//   dx += weight invstd (dout - [training] (sum dout + xhat sum dout xhat) / M)
// (+= when accumulate; otherwise the gradients are written, in the same pass, and their buffers never read)
// Channels are independent; each image plane's sums run in T (16 lanes), combined in double in a fixed order.
//
// Fused with a following ReLU (the Conv-BN-ReLU blocks of most CNNs), one pass instead of two each way:
// forward with `relu` writes max(out, 0) (NaN passes, as ReLU's does); backward given that output as
// `relu_out` first gates dout by relu_out > 0, exactly ReLU's backward.
//
// Fused with a ReLU and then a 2x2 max-pool of stride 2 (the end of a CNN stage), the second pair:
//   batch_norm_relu_max_pool_forward (out, window, mean, invstd, running_mean, running_var, x, weight, bias,
//                                     N, C, H, W, training, momentum, eps)       out, window (N, C, H/2, W/2)
//   batch_norm_relu_max_pool_backward(dx, dweight, dbias, dout, out, window, x, weight, mean, invstd,
//                                     N, C, H, W, training, accumulate)
// The statistics are the same; the normalised, rectified values are pooled as they are made and never
// stored: out is each window's maximum (ties and NaN as max_pool2d's) and window (0..3, row * 2 + column)
// where it was. Backward routes dout to those positions, gated by out > 0, and sums at the pooled size;
// dx is written whole in one pass (a position no window took gets the mean terms only). Against the three
// ops, no full-size activation or gradient is stored and read back between them, and max-pool's 8-byte
// indices become one byte (only its low two bits are read, so any byte stays inside its window).
#pragma once

#include "common.h"

namespace nntrain {

template <class T>
void batch_norm_forward(T* out, T* mean, T* invstd, T* running_mean, T* running_var, const T* x, const T* weight,
                        const T* bias, index_t N, index_t C, index_t S, bool training, double momentum, double eps,
                        bool relu = false);

template <class T>
void batch_norm_backward(T* dx, T* dweight, T* dbias, const T* dout, const T* x, const T* weight, const T* mean,
                         const T* invstd, index_t N, index_t C, index_t S, bool training,
                         const T* relu_out = nullptr, bool accumulate = true);

template <class T>
void batch_norm_relu_max_pool_forward(T* out, std::uint8_t* window, T* mean, T* invstd, T* running_mean,
                                      T* running_var, const T* x, const T* weight, const T* bias, index_t N, index_t C,
                                      index_t H, index_t W, bool training, double momentum, double eps);

template <class T>
void batch_norm_relu_max_pool_backward(T* dx, T* dweight, T* dbias, const T* dout, const T* out,
                                       const std::uint8_t* window, const T* x, const T* weight, const T* mean,
                                       const T* invstd, index_t N, index_t C, index_t H, index_t W, bool training,
                                       bool accumulate);

}  // namespace nntrain
