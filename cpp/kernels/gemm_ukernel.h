// The GEMM microkernel contract (after BLIS), shared by every instruction-set variant.
//
//   C[0:m, 0:n] := beta * C[0:m, 0:n] + alpha * Ap · Bp        (row-major C with row stride ldc)
//
// Ap is an MR x k micro-panel packed "column by column": for p in [0,k), MR consecutive values
// A[0..MR)[p], rows past the matrix edge zero-filled. Bp is a k x NR micro-panel packed row by row:
// for p in [0,k), NR consecutive values B[p][0..NR), zero-filled past the edge.
// ALIGNMENT: Bp must start on a 64-byte boundary (kAlignment, scratch.h): the SIMD kernels load it with
// aligned instructions, which fault on anything less. Callers give it packed scratch or an AlignedArray,
// never std::vector or malloc storage (16 bytes). Ap is read one scalar at a time and C with unaligned
// loads and stores, so neither needs more than its type's own alignment.
// m <= MR and n <= NR: edge tiles are handled inside the kernel, which writes only the valid m x n
// corner. When beta == 0, C is never read (it may hold NaN or garbage).
//
// A kernel variant is a register-tile shape plus cache-block sizes tuned to it; the blocking loops in
// gemm.cpp are written once and read these numbers from the table. The ISA files are the only ones
// compiled with instruction-set flags and they use nothing from the standard library, so no inline
// function compiled for AVX-512 can leak into code that runs on an older CPU.
#pragma once

#include "common.h"

namespace nntrain {

template <class T>
using UkernelFn = void (*)(index_t k, T alpha, const T* a, const T* b, T beta, T* c, index_t ldc,
                           int m, int n);

template <class T>
struct GemmKernel {
  UkernelFn<T> ukernel;
  int mr, nr;            // register tile
  index_t mc, kc, nc;    // cache blocks: A block mc x kc (L2), B micro-panel kc x nr (L1), B block kc x nc
  const char* compiled_for;  // NNTRAIN_COMPILED_ISA of the file that made this entry (kernels/compiled_isa.h)
};

// One getter per ISA file; each returns its tuned kernels.
GemmKernel<float> sgemm_kernel_ref();
GemmKernel<double> dgemm_kernel_ref();
GemmKernel<float> sgemm_kernel_avx2();
GemmKernel<double> dgemm_kernel_avx2();
GemmKernel<float> sgemm_kernel_avx512();
GemmKernel<double> dgemm_kernel_avx512();

}  // namespace nntrain
