// Packing a block of op(A) or op(B) into a micro-panel, written once over vector traits V (each ISA file
// includes this with its own traits and flags; internal linkage as in gemm_ukernel_simd.h).
//
//   dst[p * width + r] = src[r * rs + p * cs]   for r < rows, p < k;   0 for rows <= r < width
//
// for one panel (rows <= width); pack_panels packs several side by side.
//
// Two layouts are common and get vector code: cs == 1 (the panel's rows run along k in memory: a
// row-major A, or B transposed), packed as W x W register transposes; and rs == 1 (the panel's rows lie
// side by side: B, or A transposed), a copy. A scalar transpose of the first kind cost as much as the
// multiply-adds of a product with M = 64.
#pragma once

#include "kernels/gemm_ukernel.h"

namespace nntrain {
namespace {
template <class V>
void pack_panel(typename V::T* dst, const typename V::T* src, index_t rs, index_t cs, int rows, int width,
                index_t k) {
  using T = typename V::T;
  using Reg = typename V::Reg;
  constexpr int W = V::width;
  if (cs == 1 && W > 1) {
    index_t p = 0;
    for (; p + W <= k; p += W) {
      for (int r0 = 0; r0 < width; r0 += W) {
        Reg block[W];
#pragma GCC unroll 16
        for (int q = 0; q < W; ++q) block[q] = r0 + q < rows ? V::loadu(src + (r0 + q) * rs + p) : V::zero();
        V::transpose(block);
        if (r0 + W <= width) {
#pragma GCC unroll 16
          for (int q = 0; q < W; ++q) V::storeu(dst + (p + q) * width + r0, block[q]);
        } else {
          // the last, partial group of a panel narrower than a multiple of W (mr = 6 or 12)
          alignas(64) T lanes[W];
          for (int q = 0; q < W; ++q) {
            V::storeu(lanes, block[q]);
            for (int r = r0; r < width; ++r) dst[(p + q) * width + r] = lanes[r - r0];
          }
        }
      }
    }
    for (; p < k; ++p)
      for (int r = 0; r < width; ++r) dst[p * width + r] = r < rows ? src[r * rs + p] : T(0);
    return;
  }
  if (rs == 1) {
    const int whole = rows == width ? width / W * W : 0;  // vector copies only for a full panel
    for (index_t p = 0; p < k; ++p) {
      const T* s = src + p * cs;
      T* d = dst + p * width;
      int r = 0;
      for (; r < whole; r += W) V::storeu(d + r, V::loadu(s + r));
      for (; r < rows; ++r) d[r] = s[r];
      for (; r < width; ++r) d[r] = T(0);
    }
    return;
  }
  for (index_t p = 0; p < k; ++p)
    for (int r = 0; r < width; ++r) dst[p * width + r] = r < rows ? src[r * rs + p * cs] : T(0);
}

// ceil(rows / width) consecutive panels (the last zero-padded), each k x width: the `pack` entry point.
// When the panels lie side by side (rs == 1: a row-major B) they are filled row by row across all of
// them, so each source row is read as one contiguous run: panel by panel, a B with long rows was read
// one cache line per page and packing took as long as the multiply-adds.
template <class V>
void pack_panels(typename V::T* dst, const typename V::T* src, index_t rs, index_t cs, index_t rows, int width,
                 index_t k) {
  using T = typename V::T;
  constexpr int W = V::width;
  // (plain arithmetic, no std::min or ceil_div: an inline function of another header compiled here with
  // this ISA's flags could be the copy the linker keeps for everyone)
  const index_t panels = (rows + width - 1) / width;
  if (rs == 1 && cs != 1 && panels > 1 && width % W == 0) {
    const index_t whole = rows / width;  // full panels; the last may be partial
    for (index_t p = 0; p < k; ++p) {
      const T* s = src + p * cs;
      for (index_t q = 0; q < whole; ++q) {
        T* d = dst + q * width * k + p * width;
        for (int r = 0; r < width; r += W) V::storeu(d + r, V::loadu(s + q * width + r));
      }
    }
    if (whole < panels)
      pack_panel<V>(dst + whole * width * k, src + whole * width, 1, cs, static_cast<int>(rows - whole * width),
                    width, k);
    return;
  }
  for (index_t q = 0; q < panels; ++q) {
    const index_t left = rows - q * width;
    pack_panel<V>(dst + q * width * k, src + q * width * rs, rs, cs, static_cast<int>(left < width ? left : width),
                  width, k);
  }
}

}  // namespace
}  // namespace nntrain
