// The dot-product kernel of GEMM, written once over vector traits V (each ISA file includes it with its
// own traits and flags; internal linkage as in gemm_ukernel_simd.h).
//
//   sums[r * S + s] = sum over p < k of A_r[p] * B_s[p]        for r < R, s < S
//
// for R rows of A and S rows of B that both run along k (C = A B^T). For a result of a few values and a
// long K (a first conv layer's weight gradient is 9 x 32 with K = 50176) this needs no packing at all,
// where the register-tile kernel had to transpose both operands and leave most of its tile empty. Each
// sum is vectorised along k in W lanes and the lanes are added in a fixed order: the result depends on
// the data and k only.
#pragma once

#include "kernels/gemm_ukernel.h"

namespace nntrain {
namespace {

template <class V, int R, int S>
void gemm_dot(index_t k, const typename V::T* const* a_rows, const typename V::T* const* b_rows,
              typename V::T* sums) {
  using T = typename V::T;
  using Reg = typename V::Reg;
  constexpr int W = V::width;
  const T* a[R];
  const T* b[S];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) a[r] = a_rows[r];
#pragma GCC unroll 8
  for (int s = 0; s < S; ++s) b[s] = b_rows[s];
  Reg acc[R][S];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (int s = 0; s < S; ++s) acc[r][s] = V::zero();
  index_t p = 0;
  for (; p + W <= k; p += W) {
    Reg av[R];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) av[r] = V::loadu(a[r] + p);
#pragma GCC unroll 8
    for (int s = 0; s < S; ++s) {
      const Reg bv = V::loadu(b[s] + p);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) acc[r][s] = V::fmadd(av[r], bv, acc[r][s]);
    }
  }
  alignas(64) T lanes[W];
  for (int r = 0; r < R; ++r)
    for (int s = 0; s < S; ++s) {
      V::storeu(lanes, acc[r][s]);
      for (index_t q = p; q < k; ++q) lanes[q - p] += a[r][q] * b[s][q];  // the last k % W products
      // pairwise, always in this order
      for (int half = W / 2; half >= 1; half /= 2)
        for (int l = 0; l < half; ++l) lanes[l] += lanes[l + half];
      sums[r * S + s] = lanes[0];
    }
}

}  // namespace
}  // namespace nntrain
