// Portable microkernel: the same template over a one-lane "vector" of plain scalars. It is the
// fallback on CPUs without AVX2 and the oracle the SIMD kernels are tested against.
#include "kernels/compiled_isa.h"
#include "kernels/gemm_dot_simd.h"
#include "kernels/gemm_pack_simd.h"
#include "kernels/gemm_ukernel_simd.h"
#include "kernels/simd_scalar.h"

namespace nntrain {

GemmKernel<float> sgemm_kernel_ref() {
  return {gemm_ukernel<ScalarLanes<float>, 4, 8, false>, gemm_ukernel<ScalarLanes<float>, 4, 8, true>,
          gemm_ukernel<ScalarLanes<float>, 2, 8, false>, gemm_ukernel<ScalarLanes<float>, 2, 8, true>, 2,
          pack_panels<ScalarLanes<float>>, gemm_dot<ScalarLanes<float>, 2, 2>, 2, 2, 4, 8, 0, 0, 0,
          NNTRAIN_COMPILED_ISA};
}
GemmKernel<double> dgemm_kernel_ref() {
  return {gemm_ukernel<ScalarLanes<double>, 4, 8, false>, gemm_ukernel<ScalarLanes<double>, 4, 8, true>,
          gemm_ukernel<ScalarLanes<double>, 2, 8, false>, gemm_ukernel<ScalarLanes<double>, 2, 8, true>, 2,
          pack_panels<ScalarLanes<double>>, gemm_dot<ScalarLanes<double>, 2, 2>, 2, 2, 4, 8, 0, 0, 0,
          NNTRAIN_COMPILED_ISA};
}

}  // namespace nntrain
