// 3x3 stride-1 convolution by Winograd's F(2x2, 3x3), as a forward/backward pair of the same shape:
//
//   conv2d_winograd_forward (out, transformed,  x, weight, bias, shape)     out (N, OC, OH, OW)
//   conv2d_winograd_backward(dx, dweight, dout, x, transformed, weight, shape, accumulate)
//                                                 += into each (or = when not accumulate); null = skip
//
// Each 2x2 block of outputs ("tile") is computed from the 4x4 input patch under it as
//   Y = A^T [ (G g G^T) (.) (B^T d B) ] A        (.) elementwise over the 16 positions xi of the 4x4,
// and the sum over input channels moves inside the brackets, so per position xi it is one GEMM:
//   M[xi] (OC, tiles) = U[xi] (OC, C) . V[xi] (C, tiles),   U = G g G^T, V = B^T d B.
// That is 16 * OC * C multiply-adds per tile where the direct form needs 36 * OC * C (2.25x fewer).
// The backward is the exact adjoint of the same three steps, so it reuses V:
//   dM = A dY A^T;   dU[xi] = dM[xi] . V[xi]^T  ->  dweight += G^T dU G;
//   dV[xi] = U[xi]^T . dM[xi]  ->  dx += B dV B^T (tiles overlap by 2 rows and columns, so this adds up).
// F(2x2, 3x3)'s transforms hold only 0, +-1 and +-1/2, so results stay within float32 rounding of the
// im2col path; larger tiles (F(4x4, 3x3)) save more multiplies but lose digits to 1/6 and 1/24 factors.
//
// `transformed` (optional, conv2d_winograd_transformed_size(shape) values) receives V from the forward;
// given to the backward it saves recomputing V for the weight gradient. Null in either place is fine.
//
// Layout: 16 images side by side. A group of 16 images is copied into a zero-padded (C, rows, cols, 16)
// layout (image innermost), so every transform is plain 16-lane vector arithmetic whatever the image size
// or padding, and the GEMMs' columns are (tile, image) pairs. A group is cut into chunks of a few tile rows
// (~256 columns) so that a chunk's V and M stay in L2. Threads take whole groups (the patches of adjacent
// tile rows overlap in dx); chunk and group sizes depend on the shape only, and the weight gradient's
// group partials are summed in group order, so results are bit-identical for any thread count.
#pragma once

#include "conv2d.h"

namespace nntrain {

// 3x3 kernel, stride 1, dilation 1, one channel group (any padding): the shapes this file computes.
bool winograd_applies(const Conv2dShape& s);

// Values of the transformed input V kept between forward and backward: 16 * C * tiles.
index_t conv2d_winograd_transformed_size(const Conv2dShape& s);

template <class T>
void conv2d_winograd_forward(T* out, T* transformed, const T* x, const T* weight, const T* bias, const Conv2dShape& s);

template <class T>
void conv2d_winograd_backward(T* dx, T* dweight, const T* dout, const T* x, const T* transformed, const T* weight,
                              const Conv2dShape& s, bool accumulate = true);

}  // namespace nntrain
