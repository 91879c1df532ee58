// AVX-512F vector traits (float: 16 lanes, double: 8), for files compiled with the AVX-512 flags only.
// Internal linkage throughout, as in simd_avx2.h.
#pragma once

#include <immintrin.h>

namespace nntrain {
namespace {

struct Avx512Float {
  using T = float;
  using Reg = __m512;
  static constexpr int width = 16;
  static Reg zero() { return _mm512_setzero_ps(); }
  static Reg set1(T x) { return _mm512_set1_ps(x); }
  static Reg load(const T* p) { return _mm512_load_ps(p); }
  static Reg loadu(const T* p) { return _mm512_loadu_ps(p); }
  static void storeu(T* p, Reg v) { _mm512_storeu_ps(p, v); }
  static Reg fmadd(Reg a, Reg b, Reg c) { return _mm512_fmadd_ps(a, b, c); }
  // one lane of fmadd, rounded the same way (the kernels' scalar edges must give the vector path's bits)
  static T fmadd1(T a, T b, T c) { return __builtin_fmaf(a, b, c); }
  static Reg mul(Reg a, Reg b) { return _mm512_mul_ps(a, b); }
};

struct Avx512Double {
  using T = double;
  using Reg = __m512d;
  static constexpr int width = 8;
  static Reg zero() { return _mm512_setzero_pd(); }
  static Reg set1(T x) { return _mm512_set1_pd(x); }
  static Reg load(const T* p) { return _mm512_load_pd(p); }
  static Reg loadu(const T* p) { return _mm512_loadu_pd(p); }
  static void storeu(T* p, Reg v) { _mm512_storeu_pd(p, v); }
  static Reg fmadd(Reg a, Reg b, Reg c) { return _mm512_fmadd_pd(a, b, c); }
  // one lane of fmadd, rounded the same way (the kernels' scalar edges must give the vector path's bits)
  static T fmadd1(T a, T b, T c) { return __builtin_fma(a, b, c); }
  static Reg mul(Reg a, Reg b) { return _mm512_mul_pd(a, b); }
};

}  // namespace
}  // namespace nntrain
