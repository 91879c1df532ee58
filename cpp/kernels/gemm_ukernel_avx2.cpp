// AVX2 + FMA microkernels (compiled with -mavx2 -mfma; chosen at run time by dispatch.cpp).
// 16 ymm registers: a 6 x 2-vector tile keeps 12 accumulators, 2 B vectors and 1 broadcast live.
#include <immintrin.h>

#include "kernels/compiled_isa.h"
#include "kernels/gemm_ukernel_simd.h"

namespace nntrain {
namespace {

struct Avx2Float {
  using T = float;
  using Reg = __m256;
  static constexpr int width = 8;
  static Reg zero() { return _mm256_setzero_ps(); }
  static Reg set1(T x) { return _mm256_set1_ps(x); }
  static Reg load(const T* p) { return _mm256_load_ps(p); }
  static Reg loadu(const T* p) { return _mm256_loadu_ps(p); }
  static void storeu(T* p, Reg v) { _mm256_storeu_ps(p, v); }
  static Reg fmadd(Reg a, Reg b, Reg c) { return _mm256_fmadd_ps(a, b, c); }
  static Reg mul(Reg a, Reg b) { return _mm256_mul_ps(a, b); }
};

struct Avx2Double {
  using T = double;
  using Reg = __m256d;
  static constexpr int width = 4;
  static Reg zero() { return _mm256_setzero_pd(); }
  static Reg set1(T x) { return _mm256_set1_pd(x); }
  static Reg load(const T* p) { return _mm256_load_pd(p); }
  static Reg loadu(const T* p) { return _mm256_loadu_pd(p); }
  static void storeu(T* p, Reg v) { _mm256_storeu_pd(p, v); }
  static Reg fmadd(Reg a, Reg b, Reg c) { return _mm256_fmadd_pd(a, b, c); }
  static Reg mul(Reg a, Reg b) { return _mm256_mul_pd(a, b); }
};

}  // namespace

GemmKernel<float> sgemm_kernel_avx2() {
  return {gemm_ukernel<Avx2Float, 6, 2>, 6, 16, 96, 256, 4096, NNTRAIN_COMPILED_ISA};
}
GemmKernel<double> dgemm_kernel_avx2() {
  return {gemm_ukernel<Avx2Double, 6, 2>, 6, 8, 96, 256, 4096, NNTRAIN_COMPILED_ISA};
}

}  // namespace nntrain
