// BLIS-style GEMM: the five loops around the microkernel, written once for every ISA.
//
//   for jc in N by nc:                   B block kc x nc packed once per (jc, pc), shared by the team
//     for pc in K by kc:
//       pack B block                     (threads split the nr-wide panels)
//       for (ic, jr) units:              (m-major, one contiguous equal share per thread)
//         pack A block mc x kc           (per thread, reused while ic stays the same)
//         for ir over mr panels:         microkernel, then bias on the last K block
#include "gemm.h"

#include <algorithm>
#include <chrono>
#include <cstring>

#include "dispatch.h"
#include "scratch.h"

namespace nntrain {

namespace {

// Distance in T between consecutive packed B panels of kb rows: kb * nr rounded up to whole 64-byte
// lines. The microkernel loads B with aligned instructions, so every panel must start on a line;
// this keeps that true for any nr, not only for the nr of today's kernels (whose rows fill lines).
template <class T>
index_t panel_stride(index_t kb, int nr) {
  constexpr index_t line = static_cast<index_t>(kAlignment / sizeof(T));
  return ceil_div(kb * nr, line) * line;
}

// op(A)[i][p] for i in [i0, i0+mb), p in [p0, p0+kb) into mr-row micro-panels, zero-padded.
template <class T>
void pack_a(T* dst, const T* A, index_t lda, bool trans_a, index_t i0, index_t mb, index_t p0,
            index_t kb, int mr) {
  for (index_t ir = 0; ir < mb; ir += mr) {
    const int rows = static_cast<int>(std::min<index_t>(mr, mb - ir));
    T* panel = dst + ir * kb;
    if (trans_a) {
      // A is (K, M): for each p the mr values are contiguous.
      for (index_t p = 0; p < kb; ++p) {
        const T* src = A + (p0 + p) * lda + i0 + ir;
        T* out = panel + p * mr;
        int r = 0;
        for (; r < rows; ++r) out[r] = src[r];
        for (; r < mr; ++r) out[r] = T(0);
      }
    } else {
      // Row-major A: the same blocked transpose as for a transposed B.
      constexpr index_t kStep = 8;
      index_t p = 0;
      for (; p + kStep <= kb; p += kStep) {
        for (int r = 0; r < rows; ++r) {
          const T* src = A + (i0 + ir + r) * lda + p0 + p;
          for (index_t q = 0; q < kStep; ++q) panel[(p + q) * mr + r] = src[q];
        }
        for (int r = rows; r < mr; ++r)
          for (index_t q = 0; q < kStep; ++q) panel[(p + q) * mr + r] = T(0);
      }
      for (; p < kb; ++p) {
        for (int r = 0; r < rows; ++r) panel[p * mr + r] = A[(i0 + ir + r) * lda + p0 + p];
        for (int r = rows; r < mr; ++r) panel[p * mr + r] = T(0);
      }
    }
  }
}

// op(B)[p][j] for p in [p0, p0+kb), j in panel [j0, j0+nr) into one kb x nr micro-panel, zero-padded.
template <class T>
void pack_b_panel(T* panel, const T* B, index_t ldb, bool trans_b, index_t p0, index_t kb, index_t j0,
                  int cols, int nr) {
  if (trans_b) {
    // B is (N, K): column j of op(B) is row j of B. Blocks of 8 values of p per row keep both the
    // reads (8 consecutive values of a row) and the writes (8 rows of the panel, one cache line
    // apart) cache-friendly; a row-at-a-time copy wrote one element per panel line per pass.
    constexpr index_t kStep = 8;
    index_t p = 0;
    for (; p + kStep <= kb; p += kStep) {
      for (int c = 0; c < cols; ++c) {
        const T* src = B + (j0 + c) * ldb + p0 + p;
        for (index_t q = 0; q < kStep; ++q) panel[(p + q) * nr + c] = src[q];
      }
      for (int c = cols; c < nr; ++c)
        for (index_t q = 0; q < kStep; ++q) panel[(p + q) * nr + c] = T(0);
    }
    for (; p < kb; ++p) {
      for (int c = 0; c < cols; ++c) panel[p * nr + c] = B[(j0 + c) * ldb + p0 + p];
      for (int c = cols; c < nr; ++c) panel[p * nr + c] = T(0);
    }
  } else {
    for (index_t p = 0; p < kb; ++p) {
      const T* src = B + (p0 + p) * ldb + j0;
      T* out = panel + p * nr;
      std::memcpy(out, src, sizeof(T) * cols);
      for (int c = cols; c < nr; ++c) out[c] = T(0);
    }
  }
}

template <class T>
void add_bias_tile(T* c, index_t ldc, int m, int n, const T* bias, BiasAlong along, index_t i0,
                   index_t j0) {
  if (along == BiasAlong::Rows) {
    for (int i = 0; i < m; ++i) {
      const T b = bias[i0 + i];
      for (int j = 0; j < n; ++j) c[i * ldc + j] += b;
    }
  } else {
    for (int i = 0; i < m; ++i)
      for (int j = 0; j < n; ++j) c[i * ldc + j] += bias[j0 + j];
  }
}

// C := beta*C (+ bias) for the degenerate K == 0 product.
template <class T>
void scale_and_bias(T* C, index_t ldc, index_t M, index_t N, T beta, const T* bias, BiasAlong along) {
  for (index_t i = 0; i < M; ++i) {
    T* ci = C + i * ldc;
    for (index_t j = 0; j < N; ++j) {
      T v = beta == T(0) ? T(0) : beta * ci[j];
      if (along == BiasAlong::Rows) v += bias[i];
      if (along == BiasAlong::Cols) v += bias[j];
      ci[j] = v;
    }
  }
}

}  // namespace

// The five loops (see the top of the file), for M, N, K > 0.
template <class T>
void gemm_blocked(T* C, index_t ldc, const T* A, index_t lda, const T* B, index_t ldb, index_t M, index_t N,
                  index_t K, bool trans_a, bool trans_b, T alpha, T beta, const T* bias, BiasAlong bias_along) {
  const GemmKernel<T>& kern = gemm_kernel<T>();
  const int mr = kern.mr, nr = kern.nr;
  // K is cut into equal blocks of at most the kernel's kc: K = 784 as 4 x 196 rather than 3 x 256 + 16,
  // whose last block would pay a whole C tile load and store for 16 multiply-adds per element.
  const index_t kc = ceil_div(K, ceil_div(K, kern.kc));
  const index_t mc = kern.mc;
  const index_t nc = kern.nc;

  const int threads = (in_parallel() || !parallel_worth(M * N * K)) ? 1 : num_threads();

  T* bbuf = thread_scratch<T>(kScratchGemmB, static_cast<std::size_t>(panel_stride<T>(std::min(K, kc), nr) *
                                                                      ceil_div(std::min(N, nc), nr)));

  // M is cut into equal blocks (a multiple of mr, at most mc): a short last block would leave one
  // thread idle while the other finishes a full one.
  const index_t m_blocks = ceil_div(M, mc);
  const index_t m_step = ceil_div(ceil_div(M, m_blocks), mr) * mr;

#pragma omp parallel num_threads(threads)
  {
    const index_t a_capacity = std::min(K, kc) * m_step;
    T* abuf = thread_scratch<T>(kScratchGemmA, static_cast<std::size_t>(a_capacity));

    if (m_blocks == 1 && N <= nc) {
      // The small GEMMs of a training step (M = the batch): each thread packs and computes its own
      // contiguous share of B's panels, with no barrier at all. Sharing one packed B block would cost
      // two barriers per K block, a large part of a product this size.
      const index_t n_panels = ceil_div(N, nr);
      const int team = team_size(), me = current_thread();
      const index_t jp0 = n_panels * me / team, jp1 = n_panels * (me + 1) / team;
      T* own = thread_scratch<T>(kScratchGemmTile, static_cast<std::size_t>(panel_stride<T>(std::min(K, kc), nr) *
                                                                            std::max<index_t>(jp1 - jp0, 1)));
      for (index_t pc = 0; pc < K && jp0 < jp1; pc += kc) {
        const index_t kb = std::min(kc, K - pc);
        const T beta_block = pc == 0 ? beta : T(1);
        const bool last_k = pc + kb == K;
        pack_a(abuf, A, lda, trans_a, 0, M, pc, kb, mr);
        for (index_t jp = jp0; jp < jp1; ++jp) {
          const int cols = static_cast<int>(std::min<index_t>(nr, N - jp * nr));
          T* bpanel = own + (jp - jp0) * panel_stride<T>(kb, nr);
          pack_b_panel(bpanel, B, ldb, trans_b, pc, kb, jp * nr, cols, nr);
          for (index_t ir = 0; ir < M; ir += mr) {
            const int m = static_cast<int>(std::min<index_t>(mr, M - ir));
            T* c = C + ir * ldc + jp * nr;
            kern.ukernel(kb, alpha, abuf + ir * kb, bpanel, beta_block, c, ldc, m, cols);
            if (last_k && bias_along != BiasAlong::None) add_bias_tile(c, ldc, m, cols, bias, bias_along, ir, jp * nr);
          }
        }
      }
    } else
    for (index_t jc = 0; jc < N; jc += nc) {
      const index_t nb = std::min(nc, N - jc);
      const index_t n_panels = ceil_div(nb, nr);

      for (index_t pc = 0; pc < K; pc += kc) {
        const index_t kb = std::min(kc, K - pc);
        const T beta_block = pc == 0 ? beta : T(1);
        const bool last_k = pc + kb == K;

#pragma omp for schedule(static)
        for (index_t jp = 0; jp < n_panels; ++jp) {
          const int cols = static_cast<int>(std::min<index_t>(nr, nb - jp * nr));
          pack_b_panel(bbuf + jp * panel_stride<T>(kb, nr), B, ldb, trans_b, pc, kb, jc + jp * nr, cols, nr);
        }
        // (implicit barrier: the B block is complete before anyone reads it)

        // Work units are (m block, B panel) pairs in m-major order; a static schedule hands each thread
        // one contiguous, equal share, so a thread packs its A block once and the shares differ by at
        // most one panel, whatever the shape.
        index_t packed_ic = -1;
#pragma omp for schedule(static)
        for (index_t unit = 0; unit < m_blocks * n_panels; ++unit) {
          const index_t ic = (unit / n_panels) * m_step;
          const index_t jp = unit % n_panels;
          const index_t mb = std::min(m_step, M - ic);
          if (ic != packed_ic) {
            pack_a(abuf, A, lda, trans_a, ic, mb, pc, kb, mr);
            packed_ic = ic;
          }
          const index_t j0 = jc + jp * nr;
          const int n = static_cast<int>(std::min<index_t>(nr, N - j0));
          const T* bpanel = bbuf + jp * panel_stride<T>(kb, nr);
          for (index_t ir = 0; ir < mb; ir += mr) {
            const int m = static_cast<int>(std::min<index_t>(mr, mb - ir));
            T* c = C + (ic + ir) * ldc + j0;
            kern.ukernel(kb, alpha, abuf + ir * kb, bpanel, beta_block, c, ldc, m, n);
            if (last_k && bias_along != BiasAlong::None)
              add_bias_tile(c, ldc, m, n, bias, bias_along, ic + ir, j0);
          }
        }
        // (implicit barrier: nobody repacks B while another thread still reads it)
      }
    }
  }
}

template <class T>
void gemm(T* C, index_t ldc, const T* A, index_t lda, const T* B, index_t ldb, index_t M, index_t N,
          index_t K, bool trans_a, bool trans_b, T alpha, T beta, const T* bias, BiasAlong bias_along) {
  if (M <= 0 || N <= 0) return;
  if (bias == nullptr) bias_along = BiasAlong::None;
  if (K <= 0 || alpha == T(0)) {
    scale_and_bias(C, ldc, M, N, beta, bias, bias_along);
    return;
  }
  const GemmKernel<T>& kern = gemm_kernel<T>();
  const int mr = kern.mr, nr = kern.nr;
  const index_t kc = kern.kc;
  // A result of a few tiles with a long K (a first conv layer's weight gradient: 32 x 9, K = 50176)
  // leaves every thread but one idle. Split K into parts fixed by the shape alone, compute the parts'
  // products independently and add them in order: the same sums for any thread count.
  const index_t k_parts = std::min<index_t>(16, K / (4 * kc));
  if (!in_parallel() && ceil_div(M, mr) * ceil_div(N, nr) <= 4 && k_parts >= 2) {
    const index_t k_step = ceil_div(K, k_parts), mn = M * N;
    T* parts = thread_scratch<T>(kScratchGemmSplitK, static_cast<std::size_t>(k_parts * mn));
    parallel_for(k_parts, M * N * K, [&](index_t part) {
      const index_t p0 = part * k_step, kb = std::min(k_step, K - p0);
      const T* a = trans_a ? A + p0 * lda : A + p0;
      const T* b = trans_b ? B + p0 : B + p0 * ldb;
      gemm_blocked<T>(parts + part * mn, N, a, lda, b, ldb, M, N, kb, trans_a, trans_b, alpha, T(0), nullptr,
                      BiasAlong::None);
    });
    for (index_t i = 0; i < M; ++i)
      for (index_t j = 0; j < N; ++j) {
        T sum = beta == T(0) ? T(0) : beta * C[i * ldc + j];
        for (index_t part = 0; part < k_parts; ++part) sum += parts[part * mn + i * N + j];
        if (bias_along == BiasAlong::Rows) sum += bias[i];
        if (bias_along == BiasAlong::Cols) sum += bias[j];
        C[i * ldc + j] = sum;
      }
    return;
  }
  gemm_blocked(C, ldc, A, lda, B, ldb, M, N, K, trans_a, trans_b, alpha, beta, bias, bias_along);
}

template <class T>
void gemm_naive(T* C, index_t ldc, const T* A, index_t lda, const T* B, index_t ldb, index_t M,
                index_t N, index_t K, bool trans_a, bool trans_b, T alpha, T beta, const T* bias,
                BiasAlong bias_along) {
  for (index_t i = 0; i < M; ++i) {
    for (index_t j = 0; j < N; ++j) {
      T acc = T(0);
      for (index_t p = 0; p < K; ++p) {
        const T a = trans_a ? A[p * lda + i] : A[i * lda + p];
        const T b = trans_b ? B[j * ldb + p] : B[p * ldb + j];
        acc += a * b;
      }
      T v = beta == T(0) ? alpha * acc : beta * C[i * ldc + j] + alpha * acc;
      if (bias != nullptr && bias_along == BiasAlong::Rows) v += bias[i];
      if (bias != nullptr && bias_along == BiasAlong::Cols) v += bias[j];
      C[i * ldc + j] = v;
    }
  }
}

double ukernel_peak_gflops() {
  const GemmKernel<float>& kern = gemm_kernel<float>();
  const index_t k = 256;
  // Panels as gemm() packs them: aligned, as the microkernel's aligned loads of B require.
  AlignedArray<float> a(k * kern.mr, 0.5f), b(k * kern.nr, 0.25f), c(kern.mr * kern.nr, 0.0f);
  using clock = std::chrono::steady_clock;
  double best = 0.0;
  for (int trial = 0; trial < 5; ++trial) {
    const int calls = 2000;
    const auto start = clock::now();
    for (int i = 0; i < calls; ++i) kern.ukernel(k, 1.0f, a.data(), b.data(), 1.0f, c.data(), kern.nr, kern.mr, kern.nr);
    const double seconds = std::chrono::duration<double>(clock::now() - start).count();
    best = std::max(best, 2.0 * kern.mr * kern.nr * k * calls / seconds / 1e9);
  }
  return best;
}

#define NNTRAIN_INSTANTIATE_GEMM(T)                                                                  \
  template void gemm<T>(T*, index_t, const T*, index_t, const T*, index_t, index_t, index_t,       \
                        index_t, bool, bool, T, T, const T*, BiasAlong);                             \
  template void gemm_naive<T>(T*, index_t, const T*, index_t, const T*, index_t, index_t, index_t, \
                              index_t, bool, bool, T, T, const T*, BiasAlong);
NNTRAIN_INSTANTIATE_GEMM(float)
NNTRAIN_INSTANTIATE_GEMM(double)
#undef NNTRAIN_INSTANTIATE_GEMM

}  // namespace nntrain
