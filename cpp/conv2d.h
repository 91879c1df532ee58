// 2-D convolution (cross-correlation, as PyTorch), NCHW, weight (OC, C / groups, KH, KW), as a
// forward/backward pair of the same shape:
//
//   conv2d_forward (out,                x, weight, bias, shape)   out (N, OC, OH, OW)
//   conv2d_backward(dx, dweight, dbias, dout, x, weight, shape)   each gradient += its share; null = skip
//
// Both run im2col + GEMM over blocks of images: the column matrices of a block sit side by side, so one
// GEMM of (OC x C*KH*KW) by (C*KH*KW x images*OH*OW) does the block, and small images still give GEMMs
// big enough to run near peak. Threads take whole blocks (each with its own L2-sized scratch, no
// barriers inside); the block size depends on the shapes only, and the weight gradient is summed over
// blocks in a fixed order, so results are bit-identical for any thread count.
//
// With `groups` G > 1 the channels split into G independent convolutions: output channels
// [g*OC/G, (g+1)*OC/G) see only input channels [g*C/G, (g+1)*C/G). Each is the same im2col + GEMM on
// its slice (a channel slice of an NCHW image is contiguous, and so are its weight rows and output rows).
#pragma once

#include "common.h"
#include "window2d.h"

namespace nntrain {

struct Conv2dShape {
  index_t N, C, H, W;  // input
  index_t OC;          // output channels
  Window2d win;
  index_t groups = 1;  // divides C and OC

  index_t OH() const { return win.OH(H); }
  index_t OW() const { return win.OW(W); }
};

template <class T>
void conv2d_forward(T* out, const T* x, const T* weight, const T* bias, const Conv2dShape& s);

template <class T>
void conv2d_backward(T* dx, T* dweight, T* dbias, const T* dout, const T* x, const T* weight, const Conv2dShape& s);

// The direct seven-loop twin (serial): an oracle for tests and a bench baseline.
template <class T>
void conv2d_forward_naive(T* out, const T* x, const T* weight, const T* bias, const Conv2dShape& s);

}  // namespace nntrain
