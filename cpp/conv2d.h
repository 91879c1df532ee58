// 2-D convolution (cross-correlation, as PyTorch), NCHW, weight (OC, C / groups, KH, KW), as a
// forward/backward pair of the same shape:
//
//   conv2d_forward (out, transformed,   x, weight, bias, shape, algorithm)   out (N, OC, OH, OW)
//   conv2d_backward(dx, dweight, dbias, dout, x, transformed, weight, shape, algorithm, accumulate)
//                                       each gradient += its share (accumulate) or = it, in the same pass
//                                       (the buffers are then never read); null = skip
//
// Two algorithms, chosen per shape by conv2d_algorithm (the rule and its measurements are there):
// Winograd F(2x2, 3x3) for ungrouped 3x3 stride-1 layers with enough channels (conv2d_winograd.h), and
// for the rest im2col + GEMM. `transformed` is Winograd's transformed input: the forward may write it (null:
// not kept) and the backward reuses it for the weight gradient (null: recomputed). Its size is
// conv2d_transformed_size(shape, element_bytes, algorithm), 0 for im2col, which never uses it. It is 4x the input, and
// on the bench's layers reading it back cost more than recomputing it, so training does not keep it.
//
// im2col + GEMM runs over blocks of images: the column matrices of a block sit side by side, so one
// GEMM of (OC x C*KH*KW) by (C*KH*KW x images*OH*OW) does the block, and small images still give GEMMs
// big enough to run near peak. Threads take whole blocks (each with its own L2-sized scratch, no
// barriers inside); the block size depends on the shapes only, and the weight gradient is summed over
// blocks in a fixed order, so results are bit-identical for any thread count.
//
// With `groups` G > 1 (im2col only) the channels split into G independent convolutions: output channels
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

enum class ConvAlgorithm { Auto, Im2col, Winograd };

// The algorithm `requested` resolves to for this shape and element size (sizeof(T)): Auto picks by the
// rule; Winograd for a shape it cannot compute is an std::invalid_argument.
ConvAlgorithm conv2d_algorithm(const Conv2dShape& s, index_t element_bytes,
                               ConvAlgorithm requested = ConvAlgorithm::Auto);
index_t conv2d_transformed_size(const Conv2dShape& s, index_t element_bytes, ConvAlgorithm algorithm);

template <class T>
void conv2d_forward(T* out, T* transformed, const T* x, const T* weight, const T* bias, const Conv2dShape& s,
                    ConvAlgorithm algorithm = ConvAlgorithm::Auto);

template <class T>
void conv2d_backward(T* dx, T* dweight, T* dbias, const T* dout, const T* x, const T* transformed, const T* weight,
                     const Conv2dShape& s, ConvAlgorithm algorithm = ConvAlgorithm::Auto, bool accumulate = true);

// The direct seven-loop twin (serial): an oracle for tests and a bench baseline.
template <class T>
void conv2d_forward_naive(T* out, const T* x, const T* weight, const T* bias, const Conv2dShape& s);

}  // namespace nntrain
