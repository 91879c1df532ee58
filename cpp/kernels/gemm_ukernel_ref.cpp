// Portable microkernel: the same template over a one-lane "vector" of plain scalars. It is the
// fallback on CPUs without AVX2 and the oracle the SIMD kernels are tested against.
#include "kernels/compiled_isa.h"
#include "kernels/gemm_ukernel_simd.h"

namespace nntrain {
namespace {

template <class Scalar>
struct ScalarLanes {
  using T = Scalar;
  using Reg = Scalar;
  static constexpr int width = 1;
  static Reg zero() { return Reg(0); }
  static Reg set1(T x) { return x; }
  static Reg load(const T* p) { return *p; }
  static Reg loadu(const T* p) { return *p; }
  static void storeu(T* p, Reg v) { *p = v; }
  static Reg fmadd(Reg a, Reg b, Reg c) { return a * b + c; }
  static Reg mul(Reg a, Reg b) { return a * b; }
};

}  // namespace

GemmKernel<float> sgemm_kernel_ref() {
  return {gemm_ukernel<ScalarLanes<float>, 4, 8>, 4, 8, 128, 256, 2048, NNTRAIN_COMPILED_ISA};
}
GemmKernel<double> dgemm_kernel_ref() {
  return {gemm_ukernel<ScalarLanes<double>, 4, 8>, 4, 8, 128, 256, 2048, NNTRAIN_COMPILED_ISA};
}

}  // namespace nntrain
