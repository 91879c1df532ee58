// 2-D max and average pooling over NCHW planes, as forward/backward pairs of the same shape.
//
//   max_pool2d_forward (out, indices, x,        N, C, H, W, win)   out (N, C, OH, OW); indices: the
//                                                                  flat position ih*W + iw of each max
//   max_pool2d_backward(dx,  dout, indices,     N, C, H, W, win, accumulate)   dx[plane][indices] += dout
//   avg_pool2d_forward (out, x,                 N, C, H, W, win, count_include_pad)
//   avg_pool2d_backward(dx,  dout,              N, C, H, W, win, count_include_pad, accumulate)
//
// A backward adds into dx when accumulate, and otherwise writes it (dx may hold anything): each thread
// clears its own planes just before routing gradients into them, while they are in cache, instead of a
// separate zero-fill pass over the whole of dx.
//
// Padding positions never win a max; for the average they count in the divisor when
// count_include_pad (PyTorch's default), otherwise only the positions inside the image do.
// A NaN in a window is its maximum, as in PyTorch. The caller ensures that every window holds at least
// one position of the image (padding <= kernel / 2; with dilation or ceil_mode, checked window by window).
#pragma once

#include <cstdint>

#include "common.h"
#include "window2d.h"

namespace nntrain {

template <class T>
void max_pool2d_forward(T* out, std::int64_t* indices, const T* x, index_t N, index_t C, index_t H, index_t W,
                        const Window2d& win);
template <class T>
void max_pool2d_backward(T* dx, const T* dout, const std::int64_t* indices, index_t N, index_t C, index_t H,
                         index_t W, const Window2d& win, bool accumulate = true);

// Whether every index lies in [0, plane) (checked in parallel; the backward trusts them).
bool pool_indices_in_range(const std::int64_t* indices, index_t count, index_t plane);

// The top-left corners 2 (p / OW) W + 2 (p % OW) of the P = (H / 2) (W / 2) windows of a 2x2 max-pool of
// stride 2 over an (H, W) plane, the same for every plane: written once into the calling thread's scratch
// (valid until its next call there) and read by the kernels' vectorised loops (kernels/elementwise.h).
const std::int32_t* pool_window_corners(index_t H, index_t W);

template <class T>
void avg_pool2d_forward(T* out, const T* x, index_t N, index_t C, index_t H, index_t W, const Window2d& win,
                        bool count_include_pad);
template <class T>
void avg_pool2d_backward(T* dx, const T* dout, index_t N, index_t C, index_t H, index_t W, const Window2d& win,
                         bool count_include_pad, bool accumulate = true);

}  // namespace nntrain
