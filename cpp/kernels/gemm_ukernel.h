// The GEMM microkernel contract (after BLIS), shared by every instruction-set variant.
//
//   C[0:m, 0:n] := beta * C[0:m, 0:n] + alpha * A · B        C[i][j] at c[i * rs_c + j * cs_c]
//
// A is MR x k and B is k x NR. B is a packed micro-panel: row p is NR consecutive values at b + p * NR,
// zero-filled past the matrix edge. A is read one of two ways: `ukernel` takes it column
// by column, A[i][p] at a[p * a_stride + i] (a packed micro-panel, a_stride = MR, zero rows past the edge;
// or a transposed A read in place, a_stride = lda); `ukernel_a_rows` takes a row-major A in place, A[i][p]
// at a[i * a_stride + p]. Read in place, all MR rows must exist (GEMM packs edge rows). m <= MR and
// n <= NR: the kernel writes only the valid m x n corner. When beta == 0, C is never read (it may hold NaN
// or garbage). C is usually row-major (cs_c == 1, the fast path); another column stride lets GEMM compute
// a transposed product (C^T = op(B)^T op(A)^T) when that fills the register tile better.
// ALIGNMENT: B must start on a 64-byte boundary (kAlignment, scratch.h): the SIMD kernels load it with
// aligned instructions, which fault on anything less. Callers give it packed scratch or an AlignedArray,
// never std::vector or malloc storage (16 bytes). Every SIMD tile's row of NR values is whole 64-byte
// lines (checked in gemm_ukernel_simd.h), so panels packed one after another into scratch all stay
// aligned. A and C are read with scalar or unaligned loads and need only their type's own alignment.
//
// `pack` copies a block of A or B into ceil(rows / width) micro-panels of k x width, one after another:
// panel q holds dst[q * width * k + p * width + r] = src[(q * width + r) * rs + p * cs], zeros past `rows`.
//
// A kernel variant is a register-tile shape plus the packing routine compiled for the same ISA; the cache
// blocks (mc, kc, nc) are filled in at run time from the detected cache sizes (gemm_blocks.h). The ISA
// files are the only ones compiled with instruction-set flags and they use nothing from the standard
// library, so no inline function compiled for AVX-512 can leak into code that runs on an older CPU.
#pragma once

#include "common.h"

namespace nntrain {

template <class T>
using UkernelFn = void (*)(index_t k, T alpha, const T* a, index_t a_stride, const T* b, T beta, T* c,
                           index_t rs_c, index_t cs_c, int m, int n);

template <class T>
using PackFn = void (*)(T* dst, const T* src, index_t rs, index_t cs, index_t rows, int width, index_t k);

// sums[r * dot_s + s] = sum_p A_r[p] B_s[p] over k for dot_r rows of A and dot_s rows of B, both running
// along k (kernels/gemm_dot_simd.h).
template <class T>
using DotFn = void (*)(index_t k, const T* const* a_rows, const T* const* b_rows, T* sums);

template <class T>
struct GemmKernel {
  UkernelFn<T> ukernel;         // A by columns: packed, or transposed in place
  UkernelFn<T> ukernel_a_rows;  // A row-major, in place
  // The same two on a shorter tile of edge_mr rows (0: none), for a matrix's last rows: M = 64 on 12-row
  // tiles runs as 4 x 12 + 2 x 8 rows instead of 5 x 12 + 4 rows padded to 12, a ninth of its work.
  UkernelFn<T> edge_ukernel, edge_ukernel_a_rows;
  int edge_mr;
  PackFn<T> pack;
  DotFn<T> dot;
  int dot_r, dot_s;             // the dot kernel's rows of A and of B
  int mr, nr;                   // register tile
  index_t mc, kc, nc;           // cache blocks: A block mc x kc (L2), B micro-panel kc x nr (L1), B block kc x nc
  const char* compiled_for;     // NNTRAIN_COMPILED_ISA of the file that made this entry (kernels/compiled_isa.h)
};

// One getter per ISA file; each returns its kernels with the cache blocks still zero.
GemmKernel<float> sgemm_kernel_ref();
GemmKernel<double> dgemm_kernel_ref();
GemmKernel<float> sgemm_kernel_avx2();
GemmKernel<double> dgemm_kernel_avx2();
GemmKernel<float> sgemm_kernel_avx512();
GemmKernel<double> dgemm_kernel_avx512();

}  // namespace nntrain
