// Winograd F(2x2, 3x3) transforms on the 16-image lane layout of conv2d_winograd.cpp, one table per
// instruction set (like the GEMM microkernels: the ISA files are the only ones compiled with ISA flags,
// and they use nothing from the standard library). Every array is C-contiguous with the image innermost:
//
//   xt  (C, 2R + 2, L, 16)    input under R tile rows, zero padded; L = 2 TW + 2 columns
//   V   (16, C, R * TW * 16)  transformed input: position xi, channel, column (tile, image)
//   M   (16, OC, R * TW * 16) its products with the transformed weights (or their gradient dM)
//   ot  (OC, 2R, 2 TW, 16)    output (or output gradient) under the R tile rows
//
// The transforms (B^T, G and A^T are the matrices of F(2x2, 3x3), see conv2d_winograd.h):
//   input_transform        V = B^T d B              input_grad_transform   dxt = sum over tiles of B dV B^T
//   output_transform       ot = A^T M A + bias      output_grad_transform  dM = A dY A^T
// the products of a chunk between them, on whole 16-lane vectors (columns come in multiples of 16):
//   product                C (m, cols) = (or +=) A (m, K) . B (K, cols)   M = U . V,  dV = U^T . dM,
//                                                                          dU += dM . (V^T)
// the transpose that gives V^T (the weight gradient's product then runs along the chunk's columns, K = R TW
// 16, as the others do; a product reducing across vector lanes spent a third of its time on the sums),
// and the transposes between rows of NCHW arrays (one per image, `stride` apart) and lanes.
// The products are small (K = C or OC, 8-64 deep, or a chunk's columns): they read their operands where
// the transforms wrote them instead of packing them as the GEMM does, which cost as much as the
// multiplications here.
#pragma once

#include "common.h"

namespace nntrain {

constexpr index_t kWinogradLanes = 16;  // images side by side

template <class T>
struct WinogradKernels {
  void (*input_transform)(T* V, const T* xt, index_t C, index_t R, index_t TW);
  void (*output_transform)(T* ot, const T* M, const T* bias, index_t OC, index_t R, index_t TW);
  void (*output_grad_transform)(T* dM, const T* gt, index_t OC, index_t R, index_t TW);
  void (*input_grad_transform)(T* dxt, const T* dV, index_t C, index_t R, index_t TW);
  // C row i at c + i ldc; A(i, k) = a[i a_row + k a_col]; B row k at b + k ldb. accumulate: C += A . B.
  // Each C entry's sum runs over k in order.
  void (*product)(T* c, index_t ldc, const T* a, index_t a_row, index_t a_col, const T* b, index_t ldb, index_t m,
                  index_t cols, index_t K, bool accumulate);
  // dst (cols, ldd) := src (rows, cols)^T with columns [rows, ldd) zero; ldd and cols multiples of 16.
  void (*transpose)(T* dst, index_t ldd, const T* src, index_t lds, index_t rows, index_t cols);
  // A block of `height` rows of `width` values of `used` images (image l's rows contiguous at l * stride)
  // to lanes and back, the lanes' rows `pitch` values apart:
  //   lanes[y pitch + 16 j + l] = rows[l stride + y width + j]   for y < height, j < width, l < used;
  // lanes l >= used are zero. Each image's block is read as one run of height * width values, 16 at a time
  // whatever the width, so narrow rows (7 wide at 7x7) cost no more per value than wide ones. `ahead`: the
  // caller's next block starts this many values past this one (0: none); its cache lines are fetched while
  // this block moves, since the blocks are a few lines per image, too short for the hardware's prefetcher.
  void (*rows_to_lanes)(T* lanes, index_t pitch, const T* rows, index_t stride, index_t used, index_t width,
                        index_t height, index_t ahead);
  // rows[l stride + y width + j] = (or += with add) lanes[y pitch + 16 j + l], the same positions.
  void (*lanes_to_rows)(T* rows, index_t stride, const T* lanes, index_t pitch, index_t used, index_t width,
                        index_t height, bool add, index_t ahead);
  int mr, nr;                // product's register tile: rows by columns (whole vector registers)
  const char* compiled_for;  // NNTRAIN_COMPILED_ISA of the file that made this table (kernels/compiled_isa.h)
};

WinogradKernels<float> swinograd_kernels_ref();
WinogradKernels<double> dwinograd_kernels_ref();
WinogradKernels<float> swinograd_kernels_avx2();
WinogradKernels<double> dwinograd_kernels_avx2();
WinogradKernels<float> swinograd_kernels_avx512();
WinogradKernels<double> dwinograd_kernels_avx512();

}  // namespace nntrain
