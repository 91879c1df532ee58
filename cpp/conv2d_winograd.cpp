#include "conv2d_winograd.h"

#include <algorithm>

#include "dispatch.h"
#include "kernels/winograd_kernels.h"
#include "scratch.h"

namespace nntrain {

namespace {

constexpr int kXi = 16;          // positions of the 4x4 transformed tile
constexpr index_t kLanes = kWinogradLanes;

// GEMM columns per chunk: enough for the microkernel to run near peak, few enough that a chunk's V and
// M (16 (C + OC) columns values: 1.5 MiB for C + OC = 96) stay in a 2 MiB L2.
constexpr index_t kChunkColumns = 256;

struct WinogradPlan {
  index_t TH, TW;      // tiles per image along each axis (the last may reach past the output)
  index_t L;           // input columns under a tile row, padding included: 2 TW + 2
  index_t chunk_rows;  // tile rows per chunk
  index_t groups;      // groups of 16 images
};

WinogradPlan plan_of(const Conv2dShape& s) {
  WinogradPlan p;
  p.TH = ceil_div(s.OH(), 2);
  p.TW = ceil_div(s.OW(), 2);
  p.L = 2 * p.TW + 2;
  const index_t rows = std::clamp<index_t>(kChunkColumns / (p.TW * kLanes), 1, std::max<index_t>(p.TH, 1));
  p.chunk_rows = ceil_div(p.TH, ceil_div(p.TH, rows));  // equal chunks
  p.groups = ceil_div(s.N, kLanes);
  return p;
}

// Tile rows [th0, th1) of images [n0, n0 + lanes).
struct Chunk {
  index_t n0, lanes, th0, th1;
  index_t R() const { return th1 - th0; }
};

// Calls body(chunk) for the chunks of group g in order.
template <class F>
void for_each_chunk(const WinogradPlan& p, index_t N, index_t g, F&& body) {
  const index_t n0 = g * kLanes, lanes = std::min(kLanes, N - n0);
  for (index_t th0 = 0; th0 < p.TH; th0 += p.chunk_rows) body(Chunk{n0, lanes, th0, std::min(p.TH, th0 + p.chunk_rows)});
}

// Runs body(group) over the groups: in parallel, each GEMM serial inside, when there are several;
// otherwise in the calling thread so that the GEMMs can use the threads.
template <class F>
void for_each_group(const WinogradPlan& p, index_t work, F&& body) {
  if (p.groups == 1) return body(index_t(0));
  parallel_for(p.groups, work, body);
}

// Runs body(xi) for the 16 positions: on the threads when the caller is not already one of many (a
// single group of images), else in order. Each position writes its own outputs.
template <class F>
void for_each_position(index_t work, F&& body) {
  if (in_parallel()) {
    for (index_t xi = 0; xi < kXi; ++xi) body(xi);
  } else {
    parallel_for(kXi, work, body);
  }
}

// The chunk's input rows r (input row 2 th0 - PH + r, r < 2R + 2) that lie inside the image: [first, last).
struct InsideRows {
  index_t y0, first, last;
};
InsideRows inside_rows(const Conv2dShape& s, const Chunk& ch) {
  const index_t y0 = 2 * ch.th0 - s.win.PH, rows = 2 * ch.R() + 2;
  const index_t first = std::clamp<index_t>(-y0, 0, rows);
  return {y0, first, std::clamp<index_t>(s.H - y0, first, rows)};
}

// xt (C, 2R + 2, L, 16) := the input under the chunk's tile rows, zero in the padding: row r is input
// row 2 th0 - PH + r, column u input column u - PW.
template <class T>
void input_to_lanes(const WinogradKernels<T>& k, T* xt, const T* x, const Conv2dShape& s, const WinogradPlan& p,
                    const Chunk& ch) {
  const index_t rows = 2 * ch.R() + 2, pitch = p.L * kLanes, PW = s.win.PW, HW = s.H * s.W;
  const InsideRows in = inside_rows(s, ch);
  for (index_t c = 0; c < s.C; ++c) {
    T* plane = xt + c * rows * pitch;
    std::fill(plane, plane + in.first * pitch, T(0));
    for (index_t r = in.first; r < in.last; ++r) {
      std::fill(plane + r * pitch, plane + r * pitch + PW * kLanes, T(0));
      std::fill(plane + r * pitch + (PW + s.W) * kLanes, plane + (r + 1) * pitch, T(0));
    }
    std::fill(plane + in.last * pitch, plane + rows * pitch, T(0));
    const T* image = x + (ch.n0 * s.C + c) * HW;
    k.rows_to_lanes(plane + in.first * pitch + PW * kLanes, pitch, image + (in.y0 + in.first) * s.W, s.C * HW, ch.lanes,
                    s.W, in.last - in.first, c + 1 < s.C ? HW : 0);
  }
}

// gt (OC, 2R, 2 TW, 16) := dout under the chunk's tile rows, zero past the output's edges.
template <class T>
void output_grad_to_lanes(const WinogradKernels<T>& k, T* gt, const T* dout, const Conv2dShape& s,
                          const WinogradPlan& p, const Chunk& ch) {
  const index_t rows = 2 * ch.R(), pitch = 2 * p.TW * kLanes, OH = s.OH(), OW = s.OW();
  const index_t inside = std::min(rows, OH - 2 * ch.th0);
  for (index_t oc = 0; oc < s.OC; ++oc) {
    T* plane = gt + oc * rows * pitch;
    k.rows_to_lanes(plane, pitch, dout + (ch.n0 * s.OC + oc) * OH * OW + 2 * ch.th0 * OW, s.OC * OH * OW, ch.lanes, OW,
                    inside, oc + 1 < s.OC ? OH * OW : 0);
    for (index_t r = 0; r < inside; ++r) std::fill(plane + r * pitch + OW * kLanes, plane + (r + 1) * pitch, T(0));
    std::fill(plane + inside * pitch, plane + rows * pitch, T(0));
  }
}

// U = G g G^T for every (oc, c), stored (16, OC, C):  G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1].
// Per output channel the C filters are first turned to (9, C), so that the transform runs along c with
// every load and store contiguous (vectorised); weight (OC, C, 3, 3) read filter by filter scatters 16
// stores per filter.
template <class T>
void weight_transform(T* U, const T* weight, index_t OC, index_t C) {
  parallel_for(OC, OC * C * 64, [&](index_t oc) {
    T* g = thread_scratch<T>(kScratchWinogradFilters, 9 * C);  // g[k * C + c] = weight[oc, c, k]
    for (index_t c = 0; c < C; ++c)
      for (int k = 0; k < 9; ++k) g[k * C + c] = weight[(oc * C + c) * 9 + k];
    T* u = U + oc * C;
    const index_t step = OC * C;  // from one position xi to the next
#pragma omp simd
    for (index_t c = 0; c < C; ++c) {
      T t[4][3];  // G g
      for (int col = 0; col < 3; ++col) {
        const T g0 = g[col * C + c], g1 = g[(3 + col) * C + c], g2 = g[(6 + col) * C + c];
        t[0][col] = g0;
        t[1][col] = T(0.5) * (g0 + g1 + g2);
        t[2][col] = T(0.5) * (g0 - g1 + g2);
        t[3][col] = g2;
      }
      for (int i = 0; i < 4; ++i) {
        u[(i * 4 + 0) * step + c] = t[i][0];
        u[(i * 4 + 1) * step + c] = T(0.5) * (t[i][0] + t[i][1] + t[i][2]);
        u[(i * 4 + 2) * step + c] = T(0.5) * (t[i][0] - t[i][1] + t[i][2]);
        u[(i * 4 + 3) * step + c] = t[i][2];
      }
    }
  });
}

// dweight += G^T dU G (or = when not accumulate), where dU (16, OC, C) is the sum of the groups' partials,
// taken in group order. As in weight_transform, the transform runs along c (contiguous in the partials) into
// a (9, C) block per output channel, which is then added to the (C, 3, 3) filters.
template <class T>
void weight_grad_transform(T* dweight, const T* partials, index_t groups, index_t OC, index_t C, index_t Cp,
                           bool accumulate) {
  const index_t size = kXi * OC * Cp;  // a group's partial: (16, OC, Cp), rows padded past C
  parallel_for(OC, groups * size, [&](index_t oc) {
    T* du = thread_scratch<T>(kScratchWinogradFilters, (kXi + 9) * C);  // du[xi * C + c]: dU[xi, oc, c]
    T* dg = du + kXi * C;  // dg[k * C + c]: the gradient of weight[oc, c, k]
    for (int xi = 0; xi < kXi; ++xi) {
      T* row = du + xi * C;
      const T* p = partials + (xi * OC + oc) * Cp;
      for (index_t c = 0; c < C; ++c) row[c] = p[c];
      for (index_t g = 1; g < groups; ++g)
        for (index_t c = 0; c < C; ++c) row[c] += p[g * size + c];
    }
#pragma omp simd
    for (index_t c = 0; c < C; ++c) {
      T t[3][4];  // G^T dU
      for (int j = 0; j < 4; ++j) {
        const T u0 = du[j * C + c], u1 = du[(4 + j) * C + c], u2 = du[(8 + j) * C + c], u3 = du[(12 + j) * C + c];
        t[0][j] = u0 + T(0.5) * (u1 + u2);
        t[1][j] = T(0.5) * (u1 - u2);
        t[2][j] = u3 + T(0.5) * (u1 + u2);
      }
      for (int k = 0; k < 3; ++k) {
        dg[(k * 3 + 0) * C + c] = t[k][0] + T(0.5) * (t[k][1] + t[k][2]);
        dg[(k * 3 + 1) * C + c] = T(0.5) * (t[k][1] - t[k][2]);
        dg[(k * 3 + 2) * C + c] = t[k][3] + T(0.5) * (t[k][1] + t[k][2]);
      }
    }
    T* filters = dweight + oc * C * 9;
    for (index_t c = 0; c < C; ++c)
      for (int k = 0; k < 9; ++k) filters[c * 9 + k] = (accumulate ? filters[c * 9 + k] : T(0)) + dg[k * C + c];
  });
}

// Where the chunk's V sits in the caller's `transformed`: chunks in (group, tile row) order.
template <class P>
P chunk_of(P transformed, const Conv2dShape& s, const WinogradPlan& p, index_t g, const Chunk& ch) {
  return transformed + (g * p.TH + ch.th0) * p.TW * kLanes * kXi * s.C;
}

}  // namespace

bool winograd_applies(const Conv2dShape& s) {
  const Window2d& w = s.win;
  return w.KH == 3 && w.KW == 3 && w.SH == 1 && w.SW == 1 && w.DH == 1 && w.DW == 1 && s.groups == 1;
}

index_t conv2d_winograd_transformed_size(const Conv2dShape& s) {
  const WinogradPlan p = plan_of(s);
  return p.groups * p.TH * p.TW * kLanes * kXi * s.C;
}

template <class T>
void conv2d_winograd_forward(T* out, T* transformed, const T* x, const T* weight, const T* bias,
                             const Conv2dShape& s) {
  const WinogradPlan p = plan_of(s);
  if (s.N == 0 || s.OH() <= 0 || s.OW() <= 0) return;
  T* U = thread_scratch<T>(kScratchWinogradU, kXi * s.OC * s.C);
  weight_transform(U, weight, s.OC, s.C);
  const index_t OH = s.OH(), OW = s.OW();
  const WinogradKernels<T>& k = winograd_kernel<T>();  // dispatch.h
  for_each_group(p, s.N * p.TH * p.TW * kXi * 2 * s.OC * s.C, [&](index_t g) {
    for_each_chunk(p, s.N, g, [&](const Chunk& ch) {
      const index_t cols = ch.R() * p.TW * kLanes, rows = 2 * ch.R() + 2;
      T* lanes = thread_scratch<T>(kScratchWinogradLanes,
                                   std::max(s.C * rows * p.L, s.OC * 2 * ch.R() * 2 * p.TW) * kLanes);
      input_to_lanes(k, lanes, x, s, p, ch);
      T* V = transformed ? chunk_of(transformed, s, p, g, ch) : thread_scratch<T>(kScratchWinogradV, kXi * s.C * cols);
      k.input_transform(V, lanes, s.C, ch.R(), p.TW);
      T* M = thread_scratch<T>(kScratchWinogradM, kXi * s.OC * cols);
      // M (OC, columns) = U (OC, C) . V (C, columns)
      for_each_position(2 * kXi * s.OC * s.C * cols, [&](index_t xi) {
        k.product(M + xi * s.OC * cols, cols, U + xi * s.OC * s.C, s.C, 1, V + xi * s.C * cols, cols, s.OC, cols, s.C,
                  false);
      });
      k.output_transform(lanes, M, bias, s.OC, ch.R(), p.TW);
      const index_t pitch = 2 * p.TW * kLanes, inside = std::min(2 * ch.R(), OH - 2 * ch.th0);
      for (index_t oc = 0; oc < s.OC; ++oc)
        k.lanes_to_rows(out + (ch.n0 * s.OC + oc) * OH * OW + 2 * ch.th0 * OW, s.OC * OH * OW,
                        lanes + oc * 2 * ch.R() * pitch, pitch, ch.lanes, OW, inside, false,
                        oc + 1 < s.OC ? OH * OW : 0);
    });
  });
}

template <class T>
void conv2d_winograd_backward(T* dx, T* dweight, const T* dout, const T* x, const T* transformed, const T* weight,
                              const Conv2dShape& s, bool accumulate) {
  const WinogradPlan p = plan_of(s);
  if ((!dx && !dweight) || s.N == 0 || s.OH() <= 0 || s.OW() <= 0) {
    if (!accumulate && dx) std::fill(dx, dx + s.N * s.C * s.H * s.W, T(0));
    if (!accumulate && dweight) std::fill(dweight, dweight + s.OC * s.C * 9, T(0));
    return;
  }
  T* U = dx ? thread_scratch<T>(kScratchWinogradU, kXi * s.OC * s.C) : nullptr;
  if (dx) weight_transform(U, weight, s.OC, s.C);
  // Each group's weight gradient (in the transformed domain) goes to a slot of its own: (16, OC, Cp), its rows
  // padded to whole vectors of the product.
  const index_t Cp = ceil_div(s.C, kLanes) * kLanes, usize = kXi * s.OC * Cp;
  T* partials = dweight ? thread_scratch<T>(kScratchWinogradPartial, p.groups * usize) : nullptr;
  const WinogradKernels<T>& k = winograd_kernel<T>();  // dispatch.h
  for_each_group(p, s.N * p.TH * p.TW * kXi * 4 * s.OC * s.C, [&](index_t g) {
    bool first = true;  // the group's first chunk: its partial and its dx rows not written yet
    for_each_chunk(p, s.N, g, [&](const Chunk& ch) {
      const index_t cols = ch.R() * p.TW * kLanes, rows = 2 * ch.R() + 2;
      T* lanes = thread_scratch<T>(kScratchWinogradLanes,
                                   std::max(s.C * rows * p.L, s.OC * 2 * ch.R() * 2 * p.TW) * kLanes);
      output_grad_to_lanes(k, lanes, dout, s, p, ch);
      T* dM = thread_scratch<T>(kScratchWinogradM, kXi * s.OC * cols);
      k.output_grad_transform(dM, lanes, s.OC, ch.R(), p.TW);
      if (dweight) {
        const T* V;
        if (transformed) {
          V = chunk_of(transformed, s, p, g, ch);
        } else {
          T* v = thread_scratch<T>(kScratchWinogradV, kXi * s.C * cols);
          input_to_lanes(k, lanes, x, s, p, ch);
          k.input_transform(v, lanes, s.C, ch.R(), p.TW);
          V = v;
        }
        // partial (OC, Cp) += dM (OC, columns) . V^T (columns, Cp): V^T's rows padded to whole vectors
        T* partial = partials + g * usize;
        T* VT = thread_scratch<T>(kScratchWinogradVT, kXi * cols * Cp);
        for_each_position(2 * kXi * s.OC * Cp * cols, [&](index_t xi) {
          k.transpose(VT + xi * cols * Cp, Cp, V + xi * s.C * cols, cols, s.C, cols);
          k.product(partial + xi * s.OC * Cp, Cp, dM + xi * s.OC * cols, cols, 1, VT + xi * cols * Cp, Cp, s.OC, Cp,
                    cols, !first);
        });
      }
      if (dx) {
        // dV (C, columns) = U^T (C, OC) . dM (OC, columns)
        T* dV = thread_scratch<T>(kScratchWinogradDV, kXi * s.C * cols);
        for_each_position(2 * kXi * s.OC * s.C * cols, [&](index_t xi) {
          k.product(dV + xi * s.C * cols, cols, U + xi * s.OC * s.C, 1, s.C, dM + xi * s.OC * cols, cols, s.C, cols,
                    s.OC, false);
        });
        k.input_grad_transform(lanes, dV, s.C, ch.R(), p.TW);
        const index_t HW = s.H * s.W, pitch = p.L * kLanes;
        // A chunk's patches reach two rows into the next chunk's: those rows get the next chunk's share
        // added; every other row is complete when its chunk is done. Written (not accumulate), each row
        // is therefore written by the first chunk that reaches it and added to by the next: the chunk's
        // rows r < 2 are added to unless this is the group's first chunk.
        const InsideRows in = inside_rows(s, ch);
        const index_t split = std::clamp<index_t>(2, in.first, in.last);
        for (index_t c = 0; c < s.C; ++c) {
          T* image = dx + (ch.n0 * s.C + c) * HW;
          const T* plane = lanes + c * rows * pitch + s.win.PW * kLanes;
          const index_t ahead = c + 1 < s.C ? HW : 0;
          k.lanes_to_rows(image + (in.y0 + in.first) * s.W, s.C * HW, plane + in.first * pitch, pitch, ch.lanes, s.W,
                          split - in.first, accumulate || !first, ahead);
          k.lanes_to_rows(image + (in.y0 + split) * s.W, s.C * HW, plane + split * pitch, pitch, ch.lanes, s.W,
                          in.last - split, accumulate, ahead);
        }
      }
      first = false;
    });
  });
  if (dweight) weight_grad_transform(dweight, partials, p.groups, s.OC, s.C, Cp, accumulate);
}

#define NNTRAIN_INSTANTIATE(T)                                                                                     \
  template void conv2d_winograd_forward<T>(T*, T*, const T*, const T*, const T*, const Conv2dShape&);               \
  template void conv2d_winograd_backward<T>(T*, T*, const T*, const T*, const T*, const T*, const Conv2dShape&, \
                                             bool);
NNTRAIN_INSTANTIATE(float)
NNTRAIN_INSTANTIATE(double)
#undef NNTRAIN_INSTANTIATE

}  // namespace nntrain
