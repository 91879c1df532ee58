// One register-blocked microkernel written once over a "vector traits" type V:
//   V::T scalar, V::Reg register type, V::width lanes, zero/set1/load/loadu/storeu/fmadd/mul.
// Each ISA file includes this with its own traits and compiler flags. Everything here has internal
// linkage (anonymous namespace) so the differently-compiled copies never merge at link time.
#pragma once

#include "kernels/gemm_ukernel.h"

namespace nntrain {
namespace {

// kARows false: A[i][p] at a[p * a_stride + i] (a packed micro-panel, a_stride = MR, or a transposed A
// read in place). kARows true: A[i][p] at a[i * a_stride + p] (a row-major A read in place).
template <class V, int MR, int NV, bool kARows>
void gemm_ukernel(index_t k, typename V::T alpha, const typename V::T* a, index_t a_stride,
                  const typename V::T* b, typename V::T beta, typename V::T* c, index_t rs_c,
                  index_t cs_c, int m, int n) {
  using T = typename V::T;
  using Reg = typename V::Reg;
  constexpr int W = V::width;
  constexpr int NR = NV * W;
  // B is loaded with aligned instructions: panels packed back to back start on 64-byte lines (kAlignment)
  // only if a row of the tile is whole lines.
  static_assert(W == 1 || NR * sizeof(T) % 64 == 0, "a SIMD tile's row of B must be whole 64-byte lines");

  // The C tile is read (beta != 0) and written once, after k steps: asking for its rows now hides the
  // cache misses behind the multiply-adds (without this, a quarter of a 1024^3 product's time went to
  // waiting on C). A row spans at most two lines.
  if (cs_c == 1) {
    for (int i = 0; i < m; ++i) {
      __builtin_prefetch(c + i * rs_c, 1);
      __builtin_prefetch(c + i * rs_c + (n - 1), 1);
    }
  }

  Reg acc[MR][NV];
#pragma GCC unroll 32
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
    for (int j = 0; j < NV; ++j) acc[i][j] = V::zero();

  // Unrolled by four: the loop's counter and branch otherwise take front-end slots the broadcasts and
  // multiply-adds need (a 6 x 16 AVX2 step is already 20 instructions for 6 cycles of FMA work).
  // Rows read in place are addressed as base + 0, 1 or 2 strides from one base pointer per three rows:
  // x86 addressing scales the stride by 4 or 8 for free, so 12 rows need 4 pointer registers, not 12.
  constexpr int kGroups = (MR + 2) / 3;
  const T* row3[kGroups];
#pragma GCC unroll 8
  for (int g = 0; g < kGroups; ++g) row3[g] = a + (kARows ? 3 * g * a_stride : 0);
#pragma GCC unroll 4
  for (index_t p = 0; p < k; ++p) {
    Reg bv[NV];
#pragma GCC unroll 8
    for (int j = 0; j < NV; ++j) bv[j] = V::load(b + j * W);
#pragma GCC unroll 32
    for (int i = 0; i < MR; ++i) {
      const Reg av = V::set1(kARows ? row3[i / 3][(i % 3) * a_stride] : a[i]);
#pragma GCC unroll 8
      for (int j = 0; j < NV; ++j) acc[i][j] = V::fmadd(av, bv[j], acc[i][j]);
    }
    if (kARows) {
#pragma GCC unroll 8
      for (int g = 0; g < kGroups; ++g) ++row3[g];
    } else {
      a += a_stride;
    }
    b += NR;
  }

  const Reg valpha = V::set1(alpha);
  if (n == NR && cs_c == 1) {
    // Whole rows (all of them but in the last row panel of a matrix whose height is no multiple of MR)
    // are written with vector stores; rows past m are not touched.
    if (beta == T(0)) {
#pragma GCC unroll 32
      for (int i = 0; i < MR; ++i)
        if (i < m)
#pragma GCC unroll 8
          for (int j = 0; j < NV; ++j) V::storeu(c + i * rs_c + j * W, V::mul(valpha, acc[i][j]));
    } else {
      const Reg vbeta = V::set1(beta);
#pragma GCC unroll 32
      for (int i = 0; i < MR; ++i)
        if (i < m)
#pragma GCC unroll 8
          for (int j = 0; j < NV; ++j) {
            T* cij = c + i * rs_c + j * W;
            V::storeu(cij, V::fmadd(vbeta, V::loadu(cij), V::mul(valpha, acc[i][j])));
          }
    }
    return;
  }
  // A partial column panel, or a C stored by columns: spill the scaled accumulators, then write only the
  // valid corner, with the same fused multiply-add as the vector stores above, so that an element gets the
  // same bits whichever way round, and by whichever path, its tile is written.
  alignas(64) T tile[MR * NR];
#pragma GCC unroll 32
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
    for (int j = 0; j < NV; ++j) V::storeu(tile + i * NR + j * W, V::mul(valpha, acc[i][j]));
  if (rs_c == 1) {
    // C by columns (a product computed as its transpose): each of the tile's columns is a run of m
    // consecutive values in memory, written one run at a time rather than one line per value.
    for (int j = 0; j < n; ++j) {
      T* cj = c + j * cs_c;
      if (beta == T(0)) {
        for (int i = 0; i < m; ++i) cj[i] = tile[i * NR + j];
      } else {
        for (int i = 0; i < m; ++i) cj[i] = V::fmadd1(beta, cj[i], tile[i * NR + j]);
      }
    }
    return;
  }
  for (int i = 0; i < m; ++i) {
    T* ci = c + i * rs_c;
    const T* ti = tile + i * NR;
    if (beta == T(0)) {
      for (int j = 0; j < n; ++j) ci[j * cs_c] = ti[j];
    } else {
      for (int j = 0; j < n; ++j) ci[j * cs_c] = V::fmadd1(beta, ci[j * cs_c], ti[j]);
    }
  }
}

}  // namespace
}  // namespace nntrain
