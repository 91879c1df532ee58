#include "conv2d_winograd.h"

#include <algorithm>
#include <cstring>

#include "gemm.h"
#include "scratch.h"

namespace nntrain {

namespace {

constexpr int kXi = 16;  // positions of the 4x4 transformed tile

// Tiles per chunk: the columns of a chunk's 16 GEMMs. 256 keeps a chunk's V and M (16 (C + OC) tiles
// values) within a 2 MiB L2 for C + OC <= 96, and 16 GEMMs of 256 columns still run near peak.
constexpr index_t kChunkTiles = 256;

struct WinogradPlan {
  index_t TH, TW;        // tiles per image along each axis (the last may reach past the output)
  index_t L;             // padded input row under a tile row: 2 TW + 2 values
  index_t chunk_rows;    // tile rows per chunk (rows of the flattened (image, tile row) list)
  index_t group_images;  // images per parallel task
  index_t groups;
};

WinogradPlan plan_of(const Conv2dShape& s) {
  WinogradPlan p;
  p.TH = ceil_div(s.OH(), 2);
  p.TW = ceil_div(s.OW(), 2);
  p.L = 2 * p.TW + 2;
  const index_t rows = std::max<index_t>(1, kChunkTiles / p.TW);
  if (rows >= p.TH) {  // several whole images per chunk; a group is one chunk
    p.group_images = std::clamp<index_t>(rows / p.TH, 1, std::max<index_t>(s.N, 1));
    p.chunk_rows = p.group_images * p.TH;
  } else {  // one image per group, cut into chunks of equal tile rows
    p.group_images = 1;
    p.chunk_rows = ceil_div(p.TH, ceil_div(p.TH, rows));
  }
  p.groups = ceil_div(s.N, p.group_images);
  return p;
}

// Calls body(r0, r1) for the chunks of group g: ranges of flattened tile rows r = n * TH + th.
template <class F>
void for_each_chunk(const WinogradPlan& p, index_t N, index_t g, F&& body) {
  const index_t first = g * p.group_images * p.TH;
  const index_t last = std::min(N, (g + 1) * p.group_images) * p.TH;
  for (index_t r0 = first; r0 < last; r0 += p.chunk_rows) body(r0, std::min(last, r0 + p.chunk_rows));
}

// Runs body(group) over the groups: in parallel, each GEMM serial inside, when there are several;
// otherwise in the calling thread so the GEMMs themselves can use the threads.
template <class F>
void for_each_group(const WinogradPlan& p, index_t work, F&& body) {
  if (p.groups == 1) return body(index_t(0));
  parallel_for(p.groups, work, body);
}

// dst[0, len) := row y of the plane seen from column -PW, zero outside the image.
template <class T>
void padded_row(T* dst, const T* plane, index_t y, index_t H, index_t W, index_t PW, index_t len) {
  if (y < 0 || y >= H) {
    std::fill(dst, dst + len, T(0));
    return;
  }
  const index_t left = std::min(PW, len), stop = std::min(len, PW + W);
  std::fill(dst, dst + left, T(0));
  if (stop > left) std::memcpy(dst + left, plane + y * W + (left - PW), sizeof(T) * (stop - left));
  std::fill(dst + std::max(stop, left), dst + len, T(0));
}

// ---- the four transforms, each over one chunk of tile rows [r0, r1) ---------------------------------
// A chunk's transformed arrays are (16, rows, tiles): element (xi, row, t) at (xi * rows + row) * ld + t,
// t = (r - r0) * TW + tw. Each transform runs along a tile row, vectorised over its tiles.

// V = B^T d B for every input channel c:  B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1].
template <class T>
void input_transform(T* V, index_t ld, const T* x, const Conv2dShape& s, const WinogradPlan& p, index_t r0,
                     index_t r1) {
  const index_t TW = p.TW, L = p.L;
  T* buf = thread_scratch<T>(kScratchWinogradRows, 4 * L + 16 * TW);
  T* h = buf + 4 * L;  // h[i][j][tw]: row i of the patch times B
  for (index_t c = 0; c < s.C; ++c) {
    for (index_t r = r0; r < r1; ++r) {
      const index_t n = r / p.TH, th = r % p.TH;
      const T* plane = x + (n * s.C + c) * s.H * s.W;
      for (int i = 0; i < 4; ++i) {
        const T* d = buf + i * L;
        padded_row(buf + i * L, plane, 2 * th - s.win.PH + i, s.H, s.W, s.win.PW, L);
        T *h0 = h + (i * 4 + 0) * TW, *h1 = h0 + TW, *h2 = h1 + TW, *h3 = h2 + TW;
#pragma omp simd
        for (index_t tw = 0; tw < TW; ++tw) {
          const T a = d[2 * tw], b = d[2 * tw + 1], e = d[2 * tw + 2], f = d[2 * tw + 3];
          h0[tw] = a - e;
          h1[tw] = b + e;
          h2[tw] = e - b;
          h3[tw] = b - f;
        }
      }
      const index_t t0 = (r - r0) * TW;
      for (int j = 0; j < 4; ++j) {
        const T *a = h + (0 * 4 + j) * TW, *b = h + (1 * 4 + j) * TW, *e = h + (2 * 4 + j) * TW,
                *f = h + (3 * 4 + j) * TW;
        T* v0 = V + ((0 * 4 + j) * s.C + c) * ld + t0;
        T* v1 = V + ((1 * 4 + j) * s.C + c) * ld + t0;
        T* v2 = V + ((2 * 4 + j) * s.C + c) * ld + t0;
        T* v3 = V + ((3 * 4 + j) * s.C + c) * ld + t0;
#pragma omp simd
        for (index_t tw = 0; tw < TW; ++tw) {
          v0[tw] = a[tw] - e[tw];
          v1[tw] = b[tw] + e[tw];
          v2[tw] = e[tw] - b[tw];
          v3[tw] = b[tw] - f[tw];
        }
      }
    }
  }
}

// out = A^T M A (+ bias) for every output channel, the parts inside the output:  A^T = [1 1 1 0; 0 1 -1 -1].
template <class T>
void output_transform(T* out, const T* M, index_t ld, const T* bias, const Conv2dShape& s, const WinogradPlan& p,
                      index_t r0, index_t r1) {
  const index_t TW = p.TW, OH = s.OH(), OW = s.OW();
  T* buf = thread_scratch<T>(kScratchWinogradRows, 8 * TW + 2 * 2 * TW);
  T* y = buf + 8 * TW;  // two output rows of 2 TW values
  for (index_t oc = 0; oc < s.OC; ++oc) {
    const T b = bias ? bias[oc] : T(0);
    for (index_t r = r0; r < r1; ++r) {
      const index_t n = r / p.TH, th = r % p.TH, t0 = (r - r0) * TW;
      // A^T over the rows i of M, for each column j: q[a][j][tw]
      for (int j = 0; j < 4; ++j) {
        const T* m0 = M + ((0 * 4 + j) * s.OC + oc) * ld + t0;
        const T* m1 = M + ((1 * 4 + j) * s.OC + oc) * ld + t0;
        const T* m2 = M + ((2 * 4 + j) * s.OC + oc) * ld + t0;
        const T* m3 = M + ((3 * 4 + j) * s.OC + oc) * ld + t0;
        T *q0 = buf + j * TW, *q1 = buf + (4 + j) * TW;
#pragma omp simd
        for (index_t tw = 0; tw < TW; ++tw) {
          q0[tw] = m0[tw] + m1[tw] + m2[tw];
          q1[tw] = m1[tw] - m2[tw] - m3[tw];
        }
      }
      // ... then over the columns, interleaving the two outputs of each tile into a row
      for (int a = 0; a < 2; ++a) {
        const T *q0 = buf + (4 * a + 0) * TW, *q1 = q0 + TW, *q2 = q1 + TW, *q3 = q2 + TW;
        T* row = y + a * 2 * TW;
#pragma omp simd
        for (index_t tw = 0; tw < TW; ++tw) {
          row[2 * tw] = q0[tw] + q1[tw] + q2[tw] + b;
          row[2 * tw + 1] = q1[tw] - q2[tw] - q3[tw] + b;
        }
        const index_t oh = 2 * th + a;
        if (oh < OH) std::memcpy(out + ((n * s.OC + oc) * OH + oh) * OW, row, sizeof(T) * OW);
      }
    }
  }
}

// dM = A dY A^T for every output channel, dY zero past the output's edge (the adjoint of output_transform).
template <class T>
void output_grad_transform(T* dM, index_t ld, const T* dout, const Conv2dShape& s, const WinogradPlan& p,
                           index_t r0, index_t r1) {
  const index_t TW = p.TW, OH = s.OH(), OW = s.OW();
  T* buf = thread_scratch<T>(kScratchWinogradRows, 2 * 2 * TW + 8 * TW);
  T* q = buf + 4 * TW;  // q[a][j][tw]: row a of the dY tile times A^T
  for (index_t oc = 0; oc < s.OC; ++oc) {
    for (index_t r = r0; r < r1; ++r) {
      const index_t n = r / p.TH, th = r % p.TH, t0 = (r - r0) * TW;
      for (int a = 0; a < 2; ++a) {
        T* g = buf + a * 2 * TW;
        const index_t oh = 2 * th + a;
        if (oh < OH) {
          std::memcpy(g, dout + ((n * s.OC + oc) * OH + oh) * OW, sizeof(T) * OW);
          std::fill(g + OW, g + 2 * TW, T(0));
        } else {
          std::fill(g, g + 2 * TW, T(0));
        }
        T *q0 = q + (4 * a + 0) * TW, *q1 = q0 + TW, *q2 = q1 + TW, *q3 = q2 + TW;
#pragma omp simd
        for (index_t tw = 0; tw < TW; ++tw) {
          const T u = g[2 * tw], v = g[2 * tw + 1];
          q0[tw] = u;
          q1[tw] = u + v;
          q2[tw] = u - v;
          q3[tw] = -v;
        }
      }
      for (int j = 0; j < 4; ++j) {
        const T *u = q + j * TW, *v = q + (4 + j) * TW;
        T* d0 = dM + ((0 * 4 + j) * s.OC + oc) * ld + t0;
        T* d1 = dM + ((1 * 4 + j) * s.OC + oc) * ld + t0;
        T* d2 = dM + ((2 * 4 + j) * s.OC + oc) * ld + t0;
        T* d3 = dM + ((3 * 4 + j) * s.OC + oc) * ld + t0;
#pragma omp simd
        for (index_t tw = 0; tw < TW; ++tw) {
          d0[tw] = u[tw];
          d1[tw] = u[tw] + v[tw];
          d2[tw] = u[tw] - v[tw];
          d3[tw] = -v[tw];
        }
      }
    }
  }
}

// dx += B dV B^T for every input channel, the overlapping patches added in tile order (the adjoint of
// input_transform; positions in the padding are dropped).
template <class T>
void input_grad_transform(T* dx, const T* dV, index_t ld, const Conv2dShape& s, const WinogradPlan& p, index_t r0,
                          index_t r1) {
  const index_t TW = p.TW, L = p.L, PW = s.win.PW;
  T* buf = thread_scratch<T>(kScratchWinogradRows, 16 * TW + 4 * L);
  T* acc = buf + 16 * TW;  // the 4 patch rows of a tile row, overlap-added along the row
  const index_t left = std::min(PW, L), stop = std::min(L, PW + s.W);
  for (index_t c = 0; c < s.C; ++c) {
    for (index_t r = r0; r < r1; ++r) {
      const index_t n = r / p.TH, th = r % p.TH, t0 = (r - r0) * TW;
      // B over the rows: k[row][j][tw]
      for (int j = 0; j < 4; ++j) {
        const T* v0 = dV + ((0 * 4 + j) * s.C + c) * ld + t0;
        const T* v1 = dV + ((1 * 4 + j) * s.C + c) * ld + t0;
        const T* v2 = dV + ((2 * 4 + j) * s.C + c) * ld + t0;
        const T* v3 = dV + ((3 * 4 + j) * s.C + c) * ld + t0;
        T *k0 = buf + (0 * 4 + j) * TW, *k1 = buf + (1 * 4 + j) * TW, *k2 = buf + (2 * 4 + j) * TW,
          *k3 = buf + (3 * 4 + j) * TW;
#pragma omp simd
        for (index_t tw = 0; tw < TW; ++tw) {
          k0[tw] = v0[tw];
          k1[tw] = v1[tw] - v2[tw] + v3[tw];
          k2[tw] = v1[tw] + v2[tw] - v0[tw];
          k3[tw] = -v3[tw];
        }
      }
      // ... then over the columns, each tile's 4 values added at columns 2 tw .. 2 tw + 3
      for (int i = 0; i < 4; ++i) {
        const T *k0 = buf + (i * 4 + 0) * TW, *k1 = k0 + TW, *k2 = k1 + TW, *k3 = k2 + TW;
        T* row = acc + i * L;
        std::fill(row, row + L, T(0));
        // even columns 2 tw get l0 of tile tw and l2 of tile tw - 1; odd ones l1 of tw and l3 of tw - 1
        for (index_t tw = 0; tw < TW; ++tw) {
          row[2 * tw] += k0[tw];
          row[2 * tw + 1] += k1[tw] - k2[tw] + k3[tw];
          row[2 * tw + 2] += k1[tw] + k2[tw] - k0[tw];
          row[2 * tw + 3] -= k3[tw];
        }
        const index_t yy = 2 * th - s.win.PH + i;
        if (yy < 0 || yy >= s.H || stop <= left) continue;
        T* dst = dx + ((n * s.C + c) * s.H + yy) * s.W + (left - PW);
        const T* src = row + left;
#pragma omp simd
        for (index_t u = 0; u < stop - left; ++u) dst[u] += src[u];
      }
    }
  }
}

// U = G g G^T for every (oc, c), stored (16, OC, C):  G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1].
template <class T>
void weight_transform(T* U, const T* weight, index_t OC, index_t C) {
  parallel_for(OC, OC * C * 64, [&](index_t oc) {
    for (index_t c = 0; c < C; ++c) {
      const T* g = weight + (oc * C + c) * 9;
      T t[4][3];  // G g
      for (int col = 0; col < 3; ++col) {
        const T g0 = g[col], g1 = g[3 + col], g2 = g[6 + col];
        t[0][col] = g0;
        t[1][col] = T(0.5) * (g0 + g1 + g2);
        t[2][col] = T(0.5) * (g0 - g1 + g2);
        t[3][col] = g2;
      }
      for (int i = 0; i < 4; ++i) {
        const T u[4] = {t[i][0], T(0.5) * (t[i][0] + t[i][1] + t[i][2]), T(0.5) * (t[i][0] - t[i][1] + t[i][2]),
                        t[i][2]};
        for (int j = 0; j < 4; ++j) U[((i * 4 + j) * OC + oc) * C + c] = u[j];
      }
    }
  });
}

// dweight += G^T dU G, where dU (16, OC, C) is the sum of the groups' partials, taken in group order.
template <class T>
void weight_grad_transform(T* dweight, const T* partials, index_t groups, index_t OC, index_t C) {
  const index_t size = kXi * OC * C;
  parallel_for(OC, groups * size, [&](index_t oc) {
    for (index_t c = 0; c < C; ++c) {
      T du[4][4];
      for (int xi = 0; xi < kXi; ++xi) {
        T sum = T(0);
        for (index_t g = 0; g < groups; ++g) sum += partials[g * size + (xi * OC + oc) * C + c];
        du[xi / 4][xi % 4] = sum;
      }
      T t[3][4];  // G^T dU
      for (int j = 0; j < 4; ++j) {
        t[0][j] = du[0][j] + T(0.5) * (du[1][j] + du[2][j]);
        t[1][j] = T(0.5) * (du[1][j] - du[2][j]);
        t[2][j] = du[3][j] + T(0.5) * (du[1][j] + du[2][j]);
      }
      T* dg = dweight + (oc * C + c) * 9;
      for (int k = 0; k < 3; ++k) {
        dg[k * 3 + 0] += t[k][0] + T(0.5) * (t[k][1] + t[k][2]);
        dg[k * 3 + 1] += T(0.5) * (t[k][1] - t[k][2]);
        dg[k * 3 + 2] += t[k][3] + T(0.5) * (t[k][1] + t[k][2]);
      }
    }
  });
}

}  // namespace

bool winograd_applies(const Conv2dShape& s) {
  const Window2d& w = s.win;
  return w.KH == 3 && w.KW == 3 && w.SH == 1 && w.SW == 1 && w.DH == 1 && w.DW == 1;
}

index_t conv2d_winograd_transformed_size(const Conv2dShape& s) {
  const WinogradPlan p = plan_of(s);
  return kXi * s.C * s.N * p.TH * p.TW;
}

template <class T>
void conv2d_winograd_forward(T* out, T* transformed, const T* x, const T* weight, const T* bias,
                             const Conv2dShape& s) {
  const WinogradPlan p = plan_of(s);
  if (s.N == 0 || s.OH() <= 0 || s.OW() <= 0) return;
  T* U = thread_scratch<T>(kScratchWinogradU, kXi * s.OC * s.C);
  weight_transform(U, weight, s.OC, s.C);
  const index_t tiles = s.N * p.TH * p.TW;
  for_each_group(p, tiles * kXi * 2 * s.OC * s.C, [&](index_t g) {
    for_each_chunk(p, s.N, g, [&](index_t r0, index_t r1) {
      const index_t tb = (r1 - r0) * p.TW;
      T* V = transformed ? transformed + r0 * p.TW * kXi * s.C : thread_scratch<T>(kScratchWinogradV, kXi * s.C * tb);
      input_transform(V, tb, x, s, p, r0, r1);
      T* M = thread_scratch<T>(kScratchWinogradM, kXi * s.OC * tb);
      for (int xi = 0; xi < kXi; ++xi)
        gemm<T>(M + xi * s.OC * tb, tb, U + xi * s.OC * s.C, s.C, V + xi * s.C * tb, tb, s.OC, tb, s.C, false, false,
                T(1), T(0));
      output_transform(out, M, tb, bias, s, p, r0, r1);
    });
  });
}

template <class T>
void conv2d_winograd_backward(T* dx, T* dweight, const T* dout, const T* x, const T* transformed, const T* weight,
                              const Conv2dShape& s) {
  const WinogradPlan p = plan_of(s);
  if ((!dx && !dweight) || s.N == 0 || s.OH() <= 0 || s.OW() <= 0) return;
  T* U = dx ? thread_scratch<T>(kScratchWinogradU, kXi * s.OC * s.C) : nullptr;
  if (dx) weight_transform(U, weight, s.OC, s.C);
  // Each group's weight gradient (in the transformed domain) goes to a slot of its own.
  const index_t usize = kXi * s.OC * s.C;
  T* partials = dweight ? thread_scratch<T>(kScratchWinogradPartial, p.groups * usize) : nullptr;
  const index_t tiles = s.N * p.TH * p.TW;
  for_each_group(p, tiles * kXi * 4 * s.OC * s.C, [&](index_t g) {
    bool first = true;
    for_each_chunk(p, s.N, g, [&](index_t r0, index_t r1) {
      const index_t tb = (r1 - r0) * p.TW;
      T* dM = thread_scratch<T>(kScratchWinogradM, kXi * s.OC * tb);
      output_grad_transform(dM, tb, dout, s, p, r0, r1);
      if (dweight) {
        const T* V = transformed;
        if (V) {
          V += r0 * p.TW * kXi * s.C;
        } else {
          T* v = thread_scratch<T>(kScratchWinogradV, kXi * s.C * tb);
          input_transform(v, tb, x, s, p, r0, r1);
          V = v;
        }
        // partial (OC, C) [+]= dM (OC, tiles) . V^T (tiles, C)
        for (int xi = 0; xi < kXi; ++xi)
          gemm<T>(partials + g * usize + xi * s.OC * s.C, s.C, dM + xi * s.OC * tb, tb, V + xi * s.C * tb, tb, s.OC,
                  s.C, tb, false, true, T(1), first ? T(0) : T(1));
        first = false;
      }
      if (dx) {
        // dV (C, tiles) = U^T (C, OC) . dM (OC, tiles)
        T* dV = thread_scratch<T>(kScratchWinogradDV, kXi * s.C * tb);
        for (int xi = 0; xi < kXi; ++xi)
          gemm<T>(dV + xi * s.C * tb, tb, U + xi * s.OC * s.C, s.C, dM + xi * s.OC * tb, tb, s.C, tb, s.OC, true, false,
                  T(1), T(0));
        input_grad_transform(dx, dV, tb, s, p, r0, r1);
      }
    });
  });
  if (dweight) weight_grad_transform(dweight, partials, p.groups, s.OC, s.C);
}

#define NNTRAIN_INSTANTIATE(T)                                                                                     \
  template void conv2d_winograd_forward<T>(T*, T*, const T*, const T*, const T*, const Conv2dShape&);               \
  template void conv2d_winograd_backward<T>(T*, T*, const T*, const T*, const T*, const T*, const Conv2dShape&);
NNTRAIN_INSTANTIATE(float)
NNTRAIN_INSTANTIATE(double)
#undef NNTRAIN_INSTANTIATE

}  // namespace nntrain
