// AVX-512 microkernels (compiled with -mavx512f...; chosen at run time by dispatch.cpp).
// 32 zmm registers: a 12 x 2-vector tile keeps 24 accumulators and 2 B vectors live; A values are
// broadcast straight from memory into the FMAs. The 8-row edge tile keeps 16 accumulators, still twice
// the FMA latency times the two FMA units. Packing uses 256-bit transposes (simd_avx2.h): it moves
// data, and 8 x 8 blocks need a quarter of the shuffles of 16 x 16 ones per element.
#include "kernels/compiled_isa.h"
#include "kernels/gemm_dot_simd.h"
#include "kernels/gemm_pack_simd.h"
#include "kernels/gemm_ukernel_simd.h"
#include "kernels/simd_avx2.h"
#include "kernels/simd_avx512.h"

namespace nntrain {

GemmKernel<float> sgemm_kernel_avx512() {
  return {gemm_ukernel<Avx512Float, 12, 2, false>, gemm_ukernel<Avx512Float, 12, 2, true>,
          gemm_ukernel<Avx512Float, 8, 2, false>,  gemm_ukernel<Avx512Float, 8, 2, true>, 8, pack_panels<Avx2Float>,
          gemm_dot<Avx512Float, 4, 6>, 4, 6, 12, 32, 0, 0, 0, NNTRAIN_COMPILED_ISA};
}
GemmKernel<double> dgemm_kernel_avx512() {
  return {gemm_ukernel<Avx512Double, 12, 2, false>, gemm_ukernel<Avx512Double, 12, 2, true>,
          gemm_ukernel<Avx512Double, 8, 2, false>, gemm_ukernel<Avx512Double, 8, 2, true>, 8, pack_panels<Avx2Double>, gemm_dot<Avx512Double, 4, 6>, 4, 6, 12, 16, 0, 0, 0, NNTRAIN_COMPILED_ISA};
}

}  // namespace nntrain
