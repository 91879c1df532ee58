// One register-blocked microkernel written once over a "vector traits" type V:
//   V::T scalar, V::Reg register type, V::width lanes, zero/set1/load/loadu/storeu/fmadd/mul.
// Each ISA file includes this with its own traits and compiler flags. Everything here has internal
// linkage (anonymous namespace) so the differently-compiled copies never merge at link time.
#pragma once

#include "kernels/gemm_ukernel.h"

namespace nntrain {
namespace {

template <class V, int MR, int NV>
void gemm_ukernel(index_t k, typename V::T alpha, const typename V::T* a, const typename V::T* b,
                  typename V::T beta, typename V::T* c, index_t ldc, int m, int n) {
  using T = typename V::T;
  using Reg = typename V::Reg;
  constexpr int W = V::width;
  constexpr int NR = NV * W;

  Reg acc[MR][NV];
#pragma GCC unroll 32
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
    for (int j = 0; j < NV; ++j) acc[i][j] = V::zero();

  for (index_t p = 0; p < k; ++p) {
    Reg bv[NV];
#pragma GCC unroll 8
    for (int j = 0; j < NV; ++j) bv[j] = V::load(b + j * W);
#pragma GCC unroll 32
    for (int i = 0; i < MR; ++i) {
      const Reg av = V::set1(a[i]);
#pragma GCC unroll 8
      for (int j = 0; j < NV; ++j) acc[i][j] = V::fmadd(av, bv[j], acc[i][j]);
    }
    a += MR;
    b += NR;
  }

  const Reg valpha = V::set1(alpha);
  if (m == MR && n == NR) {
    if (beta == T(0)) {
#pragma GCC unroll 32
      for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
        for (int j = 0; j < NV; ++j) V::storeu(c + i * ldc + j * W, V::mul(valpha, acc[i][j]));
    } else {
      const Reg vbeta = V::set1(beta);
#pragma GCC unroll 32
      for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
        for (int j = 0; j < NV; ++j) {
          T* cij = c + i * ldc + j * W;
          V::storeu(cij, V::fmadd(vbeta, V::loadu(cij), V::mul(valpha, acc[i][j])));
        }
    }
    return;
  }
  // Edge tile: spill the scaled accumulators, then write only the valid corner.
  alignas(64) T tile[MR * NR];
#pragma GCC unroll 32
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
    for (int j = 0; j < NV; ++j) V::storeu(tile + i * NR + j * W, V::mul(valpha, acc[i][j]));
  for (int i = 0; i < m; ++i) {
    T* ci = c + i * ldc;
    const T* ti = tile + i * NR;
    if (beta == T(0)) {
      for (int j = 0; j < n; ++j) ci[j] = ti[j];
    } else {
      for (int j = 0; j < n; ++j) ci[j] = beta * ci[j] + ti[j];
    }
  }
}

}  // namespace
}  // namespace nntrain
