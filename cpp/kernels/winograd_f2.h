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

template <class T>
void rows_to_lanes(T* lanes, const T* rows, index_t stride, index_t used, index_t count) {
  for (index_t l = 0; l < used; ++l) {
    const T* r = rows + l * stride;
    for (index_t j = 0; j < count; ++j) lanes[j * kLanes + l] = r[j];
  }
  for (index_t l = used; l < kLanes; ++l)
    for (index_t j = 0; j < count; ++j) lanes[j * kLanes + l] = T(0);
}

template <class T>
void lanes_to_rows(T* rows, index_t stride, const T* lanes, index_t used, index_t count, bool add) {
  for (index_t l = 0; l < used; ++l) {
    T* r = rows + l * stride;
    if (add) {
      for (index_t j = 0; j < count; ++j) r[j] += lanes[j * kLanes + l];
    } else {
      for (index_t j = 0; j < count; ++j) r[j] = lanes[j * kLanes + l];
    }
  }
}

// ---- the products, on 16-lane vectors (GCC vector extensions: one zmm, two ymm or four xmm) ----------
template <class T>
struct LaneVector;
template <>
struct LaneVector<float> {
  typedef float type __attribute__((vector_size(kLanes * sizeof(float)), aligned(sizeof(float))));
};
template <>
struct LaneVector<double> {
  typedef double type __attribute__((vector_size(kLanes * sizeof(double)), aligned(sizeof(double))));
};
template <class T>
using Vec = typename LaneVector<T>::type;

template <class T>
inline Vec<T> load(const T* p) {
  return *reinterpret_cast<const Vec<T>*>(p);
}
template <class T>
inline void store(T* p, Vec<T> v) {
  *reinterpret_cast<Vec<T>*>(p) = v;
}

// A register tile of R rows by NV vectors of C = A . B (see WinogradKernels::product).
template <class T, int R, int NV>
inline void product_tile(T* c, index_t ldc, const T* a, index_t a_row, index_t a_col, const T* b, index_t ldb,
                         index_t K) {
  Vec<T> acc[R][NV];
  for (int i = 0; i < R; ++i)
    for (int j = 0; j < NV; ++j) acc[i][j] = Vec<T>{};
  for (index_t k = 0; k < K; ++k) {
    Vec<T> bv[NV];
    for (int j = 0; j < NV; ++j) bv[j] = load(b + k * ldb + j * kLanes);
    for (int i = 0; i < R; ++i) {
      const T av = a[i * a_row + k * a_col];
      for (int j = 0; j < NV; ++j) acc[i][j] += av * bv[j];
    }
  }
  for (int i = 0; i < R; ++i)
    for (int j = 0; j < NV; ++j) store(c + i * ldc + j * kLanes, acc[i][j]);
}

template <class T, int R, int NV>
void product_rows(T* c, index_t ldc, const T* a, index_t a_row, index_t a_col, const T* b, index_t ldb, index_t cols,
                  index_t K) {
  index_t j = 0;
  for (; j + NV * kLanes <= cols; j += NV * kLanes) product_tile<T, R, NV>(c + j, ldc, a, a_row, a_col, b + j, ldb, K);
  for (; j < cols; j += kLanes) product_tile<T, R, 1>(c + j, ldc, a, a_row, a_col, b + j, ldb, K);
}

// The last rows % MR rows, by a tile of exactly that height.
template <class T, int R, int NV>
void product_rest(index_t rest, T* c, index_t ldc, const T* a, index_t a_row, index_t a_col, const T* b, index_t ldb,
                  index_t cols, index_t K) {
  if constexpr (R >= 1) {
    if (rest == R) return product_rows<T, R, NV>(c, ldc, a, a_row, a_col, b, ldb, cols, K);
    product_rest<T, R - 1, NV>(rest, c, ldc, a, a_row, a_col, b, ldb, cols, K);
  }
}

template <class T, int MR, int NV>
void product(T* c, index_t ldc, const T* a, index_t a_row, index_t a_col, const T* b, index_t ldb, index_t m,
             index_t cols, index_t K) {
  index_t i = 0;
  for (; i + MR <= m; i += MR) product_rows<T, MR, NV>(c + i * ldc, ldc, a + i * a_row, a_row, a_col, b, ldb, cols, K);
  product_rest<T, MR - 1, NV>(m - i, c + i * ldc, ldc, a + i * a_row, a_row, a_col, b, ldb, cols, K);
}

// Lane sums of 16 vectors at once: lane e of the result is the sum of v[e]'s 16 lanes. Four levels, each
// adding two halves of the lanes while interleaving pairs of vectors (a transposing tree: 30 shuffles and
// 15 additions instead of 16 horizontal sums); the order of the additions is fixed.
template <class T>
struct ShuffleMask;
template <>
struct ShuffleMask<float> {
  typedef int type __attribute__((vector_size(kLanes * sizeof(int))));
};
template <>
struct ShuffleMask<double> {
  typedef long long type __attribute__((vector_size(kLanes * sizeof(long long))));
};

template <class T>
inline void lane_sums(T* sums, Vec<T> v[kLanes]) {
  using Mask = typename ShuffleMask<T>::type;
  // Level k pairs vectors whose lanes form blocks of 16 >> k values of one original vector each.
  const Mask lo[4] = {{0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23},
                      {0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27},
                      {0, 1, 4, 5, 8, 9, 12, 13, 16, 17, 20, 21, 24, 25, 28, 29},
                      {0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30}};
  const Mask hi[4] = {{8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31},
                      {4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31},
                      {2, 3, 6, 7, 10, 11, 14, 15, 18, 19, 22, 23, 26, 27, 30, 31},
                      {1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31}};
  index_t count = kLanes;
  for (int level = 0; level < 4; ++level) {
    count /= 2;
    for (index_t e = 0; e < count; ++e)
      v[e] = __builtin_shuffle(v[2 * e], v[2 * e + 1], lo[level]) + __builtin_shuffle(v[2 * e], v[2 * e + 1], hi[level]);
  }
  store(sums, v[0]);
}

// A tile of RI by RJ entries of C += A . B^T (see WinogradKernels::product_transposed).
template <class T, int RI, int RJ>
inline void product_transposed_tile(T* c, index_t ldc, const T* a, index_t lda, const T* b, index_t ldb,
                                    index_t cols) {
  Vec<T> acc[RI][RJ];
  for (int i = 0; i < RI; ++i)
    for (int j = 0; j < RJ; ++j) acc[i][j] = Vec<T>{};
  for (index_t col = 0; col < cols; col += kLanes) {
    Vec<T> av[RI];
    for (int i = 0; i < RI; ++i) av[i] = load(a + i * lda + col);
    for (int j = 0; j < RJ; ++j) {
      const Vec<T> bv = load(b + j * ldb + col);
      for (int i = 0; i < RI; ++i) acc[i][j] += av[i] * bv;
    }
  }
  static_assert(RI * RJ <= kLanes, "one lane sum per accumulator");
  Vec<T> v[kLanes];
  for (int e = 0; e < kLanes; ++e) v[e] = e < RI * RJ ? acc[e / RJ][e % RJ] : Vec<T>{};
  T sums[kLanes];
  lane_sums<T>(sums, v);
  for (int i = 0; i < RI; ++i)
    for (int j = 0; j < RJ; ++j) c[i * ldc + j] += sums[i * RJ + j];
}

template <class T, int RI, int RJ>
void product_transposed_rows(T* c, index_t ldc, const T* a, index_t lda, const T* b, index_t ldb, index_t n,
                             index_t cols) {
  index_t j = 0;
  for (; j + RJ <= n; j += RJ) product_transposed_tile<T, RI, RJ>(c + j, ldc, a, lda, b + j * ldb, ldb, cols);
  for (; j < n; ++j) product_transposed_tile<T, RI, 1>(c + j, ldc, a, lda, b + j * ldb, ldb, cols);
}

template <class T, int R, int RJ>
void product_transposed_rest(index_t rest, T* c, index_t ldc, const T* a, index_t lda, const T* b, index_t ldb,
                             index_t n, index_t cols) {
  if constexpr (R >= 1) {
    if (rest == R) return product_transposed_rows<T, R, RJ>(c, ldc, a, lda, b, ldb, n, cols);
    product_transposed_rest<T, R - 1, RJ>(rest, c, ldc, a, lda, b, ldb, n, cols);
  }
}

template <class T, int RI, int RJ>
void product_transposed(T* c, index_t ldc, const T* a, index_t lda, const T* b, index_t ldb, index_t m, index_t n,
                        index_t cols) {
  index_t i = 0;
  for (; i + RI <= m; i += RI) product_transposed_rows<T, RI, RJ>(c + i * ldc, ldc, a + i * lda, lda, b, ldb, n, cols);
  product_transposed_rest<T, RI - 1, RJ>(m - i, c + i * ldc, ldc, a + i * lda, lda, b, ldb, n, cols);
}

// The table of an ISA file: register tiles MR x NV vectors for product, RI x RJ for product_transposed,
// sized to its register file. An ISA file may replace the portable transposes with its own.
template <class T, int MR, int NV, int RI, int RJ>
WinogradKernels<T> winograd_kernels() {
  return {input_transform<T>, output_transform<T>, output_grad_transform<T>, input_grad_transform<T>,
          product<T, MR, NV>, product_transposed<T, RI, RJ>, rows_to_lanes<T>, lanes_to_rows<T>,
          MR, NV * int(kLanes), NNTRAIN_COMPILED_ISA};
}

}  // namespace
}  // namespace nntrain
