// One-lane "vector" traits over plain scalars: the portable fallback and the oracle for the SIMD kernels.
#pragma once

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
  static T fmadd1(T a, T b, T c) { return a * b + c; }
  static Reg mul(Reg a, Reg b) { return a * b; }
  static void transpose(Reg*) {}
};

}  // namespace
}  // namespace nntrain
