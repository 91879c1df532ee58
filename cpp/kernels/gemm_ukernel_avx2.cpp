// AVX2 + FMA microkernels (compiled with -mavx2 -mfma; chosen at run time by dispatch.cpp).
#include "kernels/compiled_isa.h"
// 16 ymm registers: a 6 x 2-vector tile keeps 12 accumulators, 2 B vectors and 1 broadcast live, the
// shape BLIS and OpenBLAS use on Haswell and Zen (two FMA units, two loads per cycle). The 4-row edge
// tile keeps 8 accumulators, the FMA latency times the two units.
#include "kernels/gemm_dot_simd.h"
#include "kernels/gemm_pack_simd.h"
#include "kernels/gemm_ukernel_simd.h"
#include "kernels/simd_avx2.h"

namespace nntrain {

GemmKernel<float> sgemm_kernel_avx2() {
  return {gemm_ukernel<Avx2Float, 6, 2, false>, gemm_ukernel<Avx2Float, 6, 2, true>,
          gemm_ukernel<Avx2Float, 4, 2, false>, gemm_ukernel<Avx2Float, 4, 2, true>, 4, pack_panels<Avx2Float>,
          gemm_dot<Avx2Float, 3, 4>, 3, 4, 6, 16, 0, 0, 0, NNTRAIN_COMPILED_ISA};
}
GemmKernel<double> dgemm_kernel_avx2() {
  return {gemm_ukernel<Avx2Double, 6, 2, false>, gemm_ukernel<Avx2Double, 6, 2, true>,
          gemm_ukernel<Avx2Double, 4, 2, false>, gemm_ukernel<Avx2Double, 4, 2, true>, 4, pack_panels<Avx2Double>,
          gemm_dot<Avx2Double, 3, 4>, 3, 4, 6, 8, 0, 0, 0, NNTRAIN_COMPILED_ISA};
}

}  // namespace nntrain
