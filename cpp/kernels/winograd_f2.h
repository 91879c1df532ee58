// The F(2x2, 3x3) transforms of winograd_kernels.h written once; each ISA file includes this with its own
// compiler flags. Every loop runs over the 16 image lanes innermost, which the compiler turns into one
// (AVX-512), two (AVX2) or four (SSE2) vector operations. Internal linkage throughout, so the differently
// compiled copies never merge at link time; no standard library for the same reason.
#pragma once

#include "kernels/compiled_isa.h"
#include "kernels/winograd_kernels.h"

namespace nntrain {
namespace {

constexpr index_t kLanes = kWinogradLanes;

// V = B^T d B per input channel and tile:  B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1].
template <class T>
void input_transform(T* V, const T* xt, index_t C, index_t R, index_t TW) {
  const index_t rows = 2 * R + 2, L = 2 * TW + 2, cols = R * TW * kLanes, step = C * cols;
  for (index_t c = 0; c < C; ++c)
    for (index_t tr = 0; tr < R; ++tr)
      for (index_t tw = 0; tw < TW; ++tw) {
        const T* d = xt + ((c * rows + 2 * tr) * L + 2 * tw) * kLanes;
        T* v = V + c * cols + (tr * TW + tw) * kLanes;
#pragma omp simd
        for (index_t l = 0; l < kLanes; ++l) {
          T w[4][4];  // B^T d
          for (int b = 0; b < 4; ++b) {
            const T d0 = d[(0 * L + b) * kLanes + l], d1 = d[(1 * L + b) * kLanes + l];
            const T d2 = d[(2 * L + b) * kLanes + l], d3 = d[(3 * L + b) * kLanes + l];
            w[0][b] = d0 - d2;
            w[1][b] = d1 + d2;
            w[2][b] = d2 - d1;
            w[3][b] = d1 - d3;
          }
          for (int i = 0; i < 4; ++i) {
            v[(i * 4 + 0) * step + l] = w[i][0] - w[i][2];
            v[(i * 4 + 1) * step + l] = w[i][1] + w[i][2];
            v[(i * 4 + 2) * step + l] = w[i][2] - w[i][1];
            v[(i * 4 + 3) * step + l] = w[i][1] - w[i][3];
          }
        }
      }
}

// ot = A^T M A + bias per output channel and tile:  A^T = [1 1 1 0; 0 1 -1 -1].
template <class T>
void output_transform(T* ot, const T* M, const T* bias, index_t OC, index_t R, index_t TW) {
  const index_t cols = R * TW * kLanes, step = OC * cols, ocols = 2 * TW;
  for (index_t oc = 0; oc < OC; ++oc) {
    const T b = bias ? bias[oc] : T(0);
    for (index_t tr = 0; tr < R; ++tr)
      for (index_t tw = 0; tw < TW; ++tw) {
        const T* m = M + oc * cols + (tr * TW + tw) * kLanes;
        T* o = ot + ((oc * 2 * R + 2 * tr) * ocols + 2 * tw) * kLanes;
#pragma omp simd
        for (index_t l = 0; l < kLanes; ++l) {
          T q[2][4];  // A^T M
          for (int j = 0; j < 4; ++j) {
            const T m0 = m[(0 * 4 + j) * step + l], m1 = m[(1 * 4 + j) * step + l];
            const T m2 = m[(2 * 4 + j) * step + l], m3 = m[(3 * 4 + j) * step + l];
            q[0][j] = m0 + m1 + m2;
            q[1][j] = m1 - m2 - m3;
          }
          for (int a = 0; a < 2; ++a) {
            o[(a * ocols + 0) * kLanes + l] = q[a][0] + q[a][1] + q[a][2] + b;
            o[(a * ocols + 1) * kLanes + l] = q[a][1] - q[a][2] - q[a][3] + b;
          }
        }
      }
  }
}

// dM = A dY A^T per output channel and tile (the adjoint of output_transform).
template <class T>
void output_grad_transform(T* dM, const T* gt, index_t OC, index_t R, index_t TW) {
  const index_t cols = R * TW * kLanes, step = OC * cols, ocols = 2 * TW;
  for (index_t oc = 0; oc < OC; ++oc)
    for (index_t tr = 0; tr < R; ++tr)
      for (index_t tw = 0; tw < TW; ++tw) {
        const T* g = gt + ((oc * 2 * R + 2 * tr) * ocols + 2 * tw) * kLanes;
        T* d = dM + oc * cols + (tr * TW + tw) * kLanes;
#pragma omp simd
        for (index_t l = 0; l < kLanes; ++l) {
          T q[2][4];  // dY A^T
          for (int a = 0; a < 2; ++a) {
            const T u = g[(a * ocols + 0) * kLanes + l], v = g[(a * ocols + 1) * kLanes + l];
            q[a][0] = u;
            q[a][1] = u + v;
            q[a][2] = u - v;
            q[a][3] = -v;
          }
          for (int j = 0; j < 4; ++j) {
            d[(0 * 4 + j) * step + l] = q[0][j];
            d[(1 * 4 + j) * step + l] = q[0][j] + q[1][j];
            d[(2 * 4 + j) * step + l] = q[0][j] - q[1][j];
            d[(3 * 4 + j) * step + l] = -q[1][j];
          }
        }
      }
}

// dxt = the sum over tiles of B dV B^T, each 4x4 patch added where it came from (the adjoint of
// input_transform: patches of neighbouring tiles overlap by two rows and columns).
template <class T>
void input_grad_transform(T* dxt, const T* dV, index_t C, index_t R, index_t TW) {
  const index_t rows = 2 * R + 2, L = 2 * TW + 2, cols = R * TW * kLanes, step = C * cols;
  for (index_t i = 0; i < C * rows * L * kLanes; ++i) dxt[i] = T(0);
  for (index_t c = 0; c < C; ++c)
    for (index_t tr = 0; tr < R; ++tr)
      for (index_t tw = 0; tw < TW; ++tw) {
        const T* v = dV + c * cols + (tr * TW + tw) * kLanes;
        T* d = dxt + ((c * rows + 2 * tr) * L + 2 * tw) * kLanes;
#pragma omp simd
        for (index_t l = 0; l < kLanes; ++l) {
          T k[4][4];  // B dV
          for (int j = 0; j < 4; ++j) {
            const T v0 = v[(0 * 4 + j) * step + l], v1 = v[(1 * 4 + j) * step + l];
            const T v2 = v[(2 * 4 + j) * step + l], v3 = v[(3 * 4 + j) * step + l];
            k[0][j] = v0;
            k[1][j] = v1 - v2 + v3;
            k[2][j] = v1 + v2 - v0;
            k[3][j] = -v3;
          }
          for (int a = 0; a < 4; ++a) {
            d[(a * L + 0) * kLanes + l] += k[a][0];
            d[(a * L + 1) * kLanes + l] += k[a][1] - k[a][2] + k[a][3];
            d[(a * L + 2) * kLanes + l] += k[a][1] + k[a][2] - k[a][0];
            d[(a * L + 3) * kLanes + l] -= k[a][3];
          }
        }
      }
}

// Where value f of an image's run of rows_to_lanes / lanes_to_rows sits in the lanes: row f / width, column
// f % width, as an offset advanced one value at a time (the ISA files' transposes move 16 or 8 at once).
struct LanePosition {
  index_t offset = 0, column = 0;
  void next(index_t width, index_t pitch) {
    offset += kLanes;
    if (++column == width) {
      column = 0;
      offset += pitch - width * kLanes;
    }
  }
};

template <class T>
void rows_to_lanes(T* lanes, index_t pitch, const T* rows, index_t stride, index_t used, index_t width,
                   index_t height, index_t /*ahead*/) {
  for (index_t y = 0; y < height; ++y) {
    T* dst = lanes + y * pitch;
    for (index_t l = 0; l < kLanes; ++l) {
      if (l >= used) {
        for (index_t j = 0; j < width; ++j) dst[j * kLanes + l] = T(0);
        continue;
      }
      const T* r = rows + l * stride + y * width;
      for (index_t j = 0; j < width; ++j) dst[j * kLanes + l] = r[j];
    }
  }
}

template <class T>
void lanes_to_rows(T* rows, index_t stride, const T* lanes, index_t pitch, index_t used, index_t width,
                   index_t height, bool add, index_t /*ahead*/) {
  for (index_t y = 0; y < height; ++y) {
    const T* src = lanes + y * pitch;
    for (index_t l = 0; l < used; ++l) {
      T* r = rows + l * stride + y * width;
      if (add) {
        for (index_t j = 0; j < width; ++j) r[j] += src[j * kLanes + l];
      } else {
        for (index_t j = 0; j < width; ++j) r[j] = src[j * kLanes + l];
      }
    }
  }
}

// ---- the products, on the ISA's own vectors of W values (GCC vector extensions) ---------------------------
// W is the register width: 16 floats in a zmm, 8 in a ymm, 4 in an xmm. A wider extension type would be
// split by the compiler, and GCC then keeps the halves of the accumulators on the stack (a 16-float type
// under AVX2 ran the products at a tenth of the speed).
template <class T, int W>
struct NativeVector {
  typedef T type __attribute__((vector_size(W * sizeof(T)), aligned(sizeof(T))));
};
template <class T, int W>
using Vec = typename NativeVector<T, W>::type;

template <class T, int W>
inline Vec<T, W> load(const T* p) {
  return *reinterpret_cast<const Vec<T, W>*>(p);
}
template <class T, int W>
inline void store(T* p, Vec<T, W> v) {
  *reinterpret_cast<Vec<T, W>*>(p) = v;
}

// A register tile of R rows by NV vectors of C = A . B, or C += A . B (see WinogradKernels::product).
template <class T, int W, int R, int NV>
inline void product_tile(T* c, index_t ldc, const T* a, index_t a_row, index_t a_col, const T* b, index_t ldb,
                         index_t K, bool accumulate) {
  Vec<T, W> acc[R][NV];
  for (int i = 0; i < R; ++i)
    for (int j = 0; j < NV; ++j) acc[i][j] = accumulate ? load<T, W>(c + i * ldc + j * W) : Vec<T, W>{};
  for (index_t k = 0; k < K; ++k) {
    Vec<T, W> bv[NV];
    for (int j = 0; j < NV; ++j) bv[j] = load<T, W>(b + k * ldb + j * W);
    for (int i = 0; i < R; ++i) {
      const T av = a[i * a_row + k * a_col];
      for (int j = 0; j < NV; ++j) acc[i][j] += av * bv[j];
    }
  }
  for (int i = 0; i < R; ++i)
    for (int j = 0; j < NV; ++j) store<T, W>(c + i * ldc + j * W, acc[i][j]);
}

template <class T, int W, int R, int NV>
void product_rows(T* c, index_t ldc, const T* a, index_t a_row, index_t a_col, const T* b, index_t ldb, index_t cols,
                  index_t K, bool accumulate) {
  index_t j = 0;
  for (; j + NV * W <= cols; j += NV * W)
    product_tile<T, W, R, NV>(c + j, ldc, a, a_row, a_col, b + j, ldb, K, accumulate);
  for (; j < cols; j += W) product_tile<T, W, R, 1>(c + j, ldc, a, a_row, a_col, b + j, ldb, K, accumulate);
}

// The last rows % MR rows, by a tile of exactly that height.
template <class T, int W, int R, int NV>
void product_rest(index_t rest, T* c, index_t ldc, const T* a, index_t a_row, index_t a_col, const T* b, index_t ldb,
                  index_t cols, index_t K, bool accumulate) {
  if constexpr (R >= 1) {
    if (rest == R) return product_rows<T, W, R, NV>(c, ldc, a, a_row, a_col, b, ldb, cols, K, accumulate);
    product_rest<T, W, R - 1, NV>(rest, c, ldc, a, a_row, a_col, b, ldb, cols, K, accumulate);
  }
}

template <class T, int W, int MR, int NV>
void product(T* c, index_t ldc, const T* a, index_t a_row, index_t a_col, const T* b, index_t ldb, index_t m,
             index_t cols, index_t K, bool accumulate) {
  static_assert(kLanes % W == 0, "columns come in whole 16-lane groups");
  index_t i = 0;
  for (; i + MR <= m; i += MR)
    product_rows<T, W, MR, NV>(c + i * ldc, ldc, a + i * a_row, a_row, a_col, b, ldb, cols, K, accumulate);
  product_rest<T, W, MR - 1, NV>(m - i, c + i * ldc, ldc, a + i * a_row, a_row, a_col, b, ldb, cols, K, accumulate);
}

// dst (cols, ldd) := src (rows, cols)^T, its columns [rows, ldd) zero: dst[k ldd + i] = src[i lds + k].
// Blocks of 16 x 16, so that both sides are read and written a cache line at a time.
template <class T>
void transpose(T* dst, index_t ldd, const T* src, index_t lds, index_t rows, index_t cols) {
  for (index_t i0 = 0; i0 < ldd; i0 += kLanes)
    for (index_t k0 = 0; k0 < cols; k0 += kLanes)
      for (index_t k = k0; k < k0 + kLanes && k < cols; ++k)
        for (index_t i = i0; i < i0 + kLanes; ++i) dst[k * ldd + i] = i < rows ? src[i * lds + k] : T(0);
}

// The table of an ISA file: W values to its vector registers, a product tile of MR rows by NV of them, sized
// to its register file. An ISA file may replace the portable transposes with its own.
template <class T, int W, int MR, int NV>
WinogradKernels<T> winograd_kernels() {
  return {input_transform<T>, output_transform<T>, output_grad_transform<T>, input_grad_transform<T>,
          product<T, W, MR, NV>, transpose<T>, rows_to_lanes<T>, lanes_to_rows<T>,
          MR, NV * W, NNTRAIN_COMPILED_ISA};
}

}  // namespace
}  // namespace nntrain
