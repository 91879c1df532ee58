// GEMM after BLIS: loops around a register-tile microkernel, written once for every ISA, in strategies
// chosen from the shape and the threads (gemm_plan, near the bottom):
//
//   gemm_panels   the usual one. Each thread takes a contiguous share of the result's nr-wide column
//                 panels and never waits for another (a shared packed block costs two barriers per K
//                 block, a large part of the small products of a training step); the last 15% of each
//                 share is a tail that any thread done with its own may take (PanelTails). For each group
//                 of nc columns and each K block of kc:
//                   pack the group's B panels      (kc x nc, in L2; read row by row across the panels)
//                   for ir over mr-row panels:     A read in place (mr x kc, stays in L1)
//                     for jr over the group:       microkernel
//   gemm_blocked  a result with fewer column panels than threads (tall and narrow): the threads
//                 share one packed B block and split M instead, the five loops of BLIS:
//                   for jc in N by nc, pc in K by kc:  pack B block (the team, then a barrier)
//                     for (ic, jr) units:             (m-major, one contiguous equal share per thread)
//                       pack A block mc x kc, then for ir: microkernel
//   gemm_dot      a result of a few register tiles with both operands along K (C = A B^T, a conv layer's
//                 weight gradient): dot products straight from the operands, no packing.
//   gemm_split_k  a result of a few tiles with a long K (the first conv layer's weight gradient,
//                 32 x 9 x 50176): K is cut into parts fixed by the shape, the parts' products computed
//                 independently (by gemm_dot when the layout allows) and added in order.
//
// A product may be computed as its transpose (C^T = op(B)^T op(A)^T, C written by columns): for the dot and
// split-K strategies when that fills the register tile better, for the others when panels_cost says it is
// cheaper (it weighs packing the larger operand against the scattered stores). Results do not depend on the
// thread count: every C element is the same sum over the same K blocks in the same order, whichever way
// round and by whichever thread it is computed.
#include "gemm.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <utility>
#include <vector>

#include "dispatch.h"
#include "gemm_tuning.h"
#include "scratch.h"

namespace nntrain {

namespace {

// C (M, N) := beta C + alpha op(A) op(B) [+ bias], C[i][j] at C[i * rs_c + j * cs_c].
template <class T>
struct Product {
  T* C;
  index_t rs_c, cs_c;
  const T* A;
  index_t lda;
  bool trans_a;
  const T* B;
  index_t ldb;
  bool trans_b;
  index_t M, N, K;
  T alpha, beta;
  const T* bias;
  BiasAlong bias_along;

  const T* a_at(index_t i, index_t p) const { return trans_a ? A + p * lda + i : A + i * lda + p; }
  const T* b_at(index_t p, index_t j) const { return trans_b ? B + j * ldb + p : B + p * ldb + j; }
  T* c_at(index_t i, index_t j) const { return C + i * rs_c + j * cs_c; }

  // C^T (N, M) = op(B)^T op(A)^T: the same numbers, computed with the roles of rows and columns swapped.
  Product transposed() const {
    const BiasAlong along = bias_along == BiasAlong::Rows ? BiasAlong::Cols
                            : bias_along == BiasAlong::Cols ? BiasAlong::Rows
                                                            : BiasAlong::None;
    return {C, cs_c, rs_c, B, ldb, !trans_b, A, lda, !trans_a, N, M, K, alpha, beta, bias, along};
  }
};

// Rows [i0, i0 + rows) of op(A) into micro-panels of `height` rows, or columns [j0, j0 + cols) of op(B) into
// nr-column ones, over k in [p0, p0 + kb) (the pack contract is in kernels/gemm_ukernel.h).
template <class T>
void pack_a(T* dst, const GemmKernel<T>& kern, const Product<T>& P, index_t i0, index_t rows, int height, index_t p0,
            index_t kb) {
  kern.pack(dst, P.a_at(i0, p0), P.trans_a ? 1 : P.lda, P.trans_a ? P.lda : 1, rows, height, kb);
}
template <class T>
void pack_b(T* dst, const GemmKernel<T>& kern, const Product<T>& P, index_t p0, index_t kb, index_t j0,
            index_t cols) {
  kern.pack(dst, P.b_at(p0, j0), P.trans_b ? P.ldb : 1, P.trans_b ? 1 : P.ldb, cols, kern.nr, kb);
}

// The inner loop runs along whichever way C is contiguous, so that it vectorises: along j for a C stored
// by rows, along i for one stored by columns (a product computed as its transpose). The scalar loop across
// a transposed C's columns took 1.7% of the mlp's training step.
template <class T>
void add_bias_tile(const Product<T>& P, index_t i0, index_t j0, int m, int n) {
  const bool along_rows = P.bias_along == BiasAlong::Rows;
  if (P.rs_c == 1) {
    for (int j = 0; j < n; ++j) {
      T* c = P.c_at(i0, j0 + j);
      if (along_rows)
        for (int i = 0; i < m; ++i) c[i] += P.bias[i0 + i];
      else
        for (int i = 0; i < m; ++i) c[i] += P.bias[j0 + j];
    }
    return;
  }
  for (int i = 0; i < m; ++i) {  // (cs_c == 1: gemm() stores C by rows or by columns)
    T* c = P.c_at(i0 + i, j0);
    if (along_rows)
      for (int j = 0; j < n; ++j) c[j] += P.bias[i0 + i];
    else
      for (int j = 0; j < n; ++j) c[j] += P.bias[j0 + j];
  }
}

// One microkernel call on the tile at (i0, j0), then the bias if this was the last K block; `edge` picks
// the kernel's shorter tile.
template <class T>
inline void tile(const GemmKernel<T>& kern, const Product<T>& P, bool a_rows, bool edge, const T* a,
                 index_t a_stride, const T* b, index_t kb, T beta, bool last_k, index_t i0, index_t j0, int m, int n) {
  const UkernelFn<T> ukernel = edge ? (a_rows ? kern.edge_ukernel_a_rows : kern.edge_ukernel)
                                    : (a_rows ? kern.ukernel_a_rows : kern.ukernel);
  ukernel(kb, P.alpha, a, a_stride, b, beta, P.c_at(i0, j0), P.rs_c, P.cs_c, m, n);
  if (last_k && P.bias_along != BiasAlong::None) add_bias_tile(P, i0, j0, m, n);
}

// The row panels of an M-row result: mr rows each up to the returned row, edge_mr rows each from there on.
// The last rows go to the shorter tile when that computes fewer padded rows: M = 64 on 12-row tiles is
// 4 x 12 + 2 x 8 (64 rows computed, not 72), M = 56 is 4 x 12 + 8, M = 60 stays 5 x 12.
inline index_t edge_rows_from(index_t M, int mr, int edge_mr) {
  const index_t rest = M % mr;
  if (edge_mr == 0 || rest == 0 || rest > edge_mr) return M;  // mr panels throughout, the last one padded
  if (M >= mr + rest && mr + rest <= 2 * edge_mr) return M - mr - rest;  // one mr panel and the rest as two
  return M - rest;
}

// The first row of row panel q (of an M-row result cut as edge_rows_from says; q = the panel count gives M).
inline index_t panel_row(index_t q, index_t M, int mr, int edge_mr, index_t edge_from) {
  const index_t whole = ceil_div(edge_from, mr);
  return std::min(M, q <= whole ? q * mr : edge_from + (q - whole) * edge_mr);
}

inline index_t row_panel_count(index_t M, int mr, int edge_mr, index_t edge_from) {
  return ceil_div(edge_from, mr) + (edge_mr ? ceil_div(M - edge_from, edge_mr) : 0);
}

// The rows the microkernels compute for an M-row result, padding included.
inline index_t computed_rows(index_t M, int mr, int edge_mr) {
  const index_t from = edge_rows_from(M, mr, edge_mr);
  return ceil_div(from, mr) * mr + (edge_mr ? ceil_div(M - from, edge_mr) * edge_mr : 0);
}

// K cut into equal blocks of at most kc: K = 784 as 4 x 196 rather than 3 x 256 + 16, whose last block
// would pay a whole C tile load and store for 16 multiply-adds per element.
inline index_t k_block(index_t K, index_t kc) { return ceil_div(K, ceil_div(K, kc)); }

constexpr int kMaxDotRows = 8;  // the dot kernels' dot_r and dot_s are at most this

// The dot kernels end every block of sums with lane reductions, which a short K does not pay for: below
// this K, panels are faster unless the result fills under a quarter of a register tile. Measured in one
// process at 1 thread (AVX-512), dot products against panels: 64x10x128 (an mlp's output layer) 18 against
// 34 GFLOP/s, 32x9x128 14 against 22, 16x16x250 15 against 30; but 5x7x200 6.4 against 4.5.
constexpr index_t kDotMinK = 256;

// A product's multiply-adds at or below which one thread is faster than two: a fork and join costs about
// what 0.5M multiply-adds take. Measured at 1 and 2 threads (AVX-512): 64x32x128, 32x128x64 and 64x128x32
// (0.26M) ran 1.2-1.8x slower on two, 64x64x128 and kin (0.52M) 0.94-1.36x, 64x128x128 (1M) 0.59x.
constexpr index_t kGemmParallelWork = index_t(1) << 19;

// What a product's strategies tell parallel_for its work is: all of it, or none when it is not worth two
// threads by the rule above (parallel_for's own threshold is for elementwise loops).
inline index_t gemm_work(index_t multiply_adds) { return multiply_adds > kGemmParallelWork ? multiply_adds : 0; }

inline int threads_for(index_t work) {
  return (in_parallel() || !parallel_worth(gemm_work(work))) ? 1 : num_threads();
}

// A's rows (or, A by columns, its k steps) a multiple of 4 KiB apart fall in the same L1 sets: an in-place
// micro-panel of 12 such rows fills all 12 ways of its sets and the B panels streaming past evict it, and
// by columns each k step is a line of its own in the same few sets. Measured in one process (AVX-512,
// 1 / 2 threads), copying the micro-panel against reading it in place: 1024^3 1.03 / 1.05x, A^T B at
// 1024^3 1.43 / 1.33x and at 2048^3 2.6 / 2.2x; no change where rows are 2 KiB apart (512^3) or on AVX2's
// 6-row tile (0.99-1.00x).
inline bool rows_alias_in_l1(index_t row_bytes) { return row_bytes % 4096 == 0; }

// The copy's row pitch: one cache line past the rows' own length, so that consecutive rows start in
// different sets.
template <class T>
index_t alias_free_pitch(index_t kb) {
  return kb + index_t(64 / sizeof(T));
}

// An aliasing A is copied whole, once per product, to a pitch that does not alias when the copy takes at most
// this many bytes; a larger one is copied a row panel at a time in every column group. Copied per group,
// a 1024^3 product (rows 4 KiB apart) ran 6% slower than 1040^3 on one thread (AMD Zen 4, AVX-512 and AVX2
// alike): the copies are made in every group again, and the group's first tiles wait for them.
constexpr index_t kWholeACopyBytes = index_t(32) << 20;

// The last part of each thread's share of the column panels, which any thread may take in runs once its
// own work is done. This machine's two vCPUs run at different speeds at times (one single-thread GEMM per
// vCPU: 137 and 100 GFLOP/s at once), and with shares fixed the faster thread waited for the slower at
// the end of every product (5% of a 2-thread 64 x 12544 x 576 in libgomp's barrier). A tail of 15% absorbs
// a speed ratio up to 1.35 (57.5% of the work against 42.5%). A run is a quarter of a tail, or a quarter of
// a column group if that is more: each run streams all of A once more. Every C element is still computed
// whole by one thread, so results do not change.
constexpr index_t kSharedTailPercent = 15;

class PanelTails {
 public:
  PanelTails(index_t panels, int threads, index_t min_run)
      : panels_(panels), threads_(threads), min_run_(min_run), next_(threads) {
    for (int t = 0; t < threads; ++t) next_[t].store(from(t), std::memory_order_relaxed);
  }
  // Thread t's share is [begin(t), end(t)); its tail starts at from(t).
  index_t begin(int t) const { return panels_ * t / threads_; }
  index_t end(int t) const { return panels_ * (t + 1) / threads_; }
  index_t from(int t) const { return end(t) - (end(t) - begin(t)) * kSharedTailPercent / 100; }
  // The next run [j, j_end) of thread t's tail; false once all of it is taken.
  bool claim(int t, index_t& j, index_t& j_end) {
    const index_t run = std::max(min_run_, ceil_div(end(t) - from(t), 4));
    j = next_[t].fetch_add(run, std::memory_order_relaxed);
    j_end = std::min(end(t), j + run);
    return j < end(t);
  }

 private:
  index_t panels_;
  int threads_;
  index_t min_run_;
  std::vector<std::atomic<index_t>> next_;
};

template <class T>
void gemm_panels(const Product<T>& P, const GemmKernel<T>& kern, bool split_rows) {
  const int mr = kern.mr, nr = kern.nr;
  const index_t M = P.M, N = P.N, K = P.K, kc = k_block(K, kern.kc);
  const index_t n_panels = ceil_div(N, nr), group = std::max<index_t>(1, kern.nc / nr);
  const index_t edge_from = edge_rows_from(M, mr, kern.edge_mr);
  const index_t row_panels = row_panel_count(M, mr, kern.edge_mr, edge_from);
  const int threads = threads_for(M * N * K);
  // A as stored: `stored_rows` rows of `row_length` values, lda apart
  const index_t stored_rows = P.trans_a ? K : M, row_length = P.trans_a ? M : K;
  const index_t pitch = alias_free_pitch<T>(row_length);
  // By columns, a micro-panel's k step read in place from the copy is mr values: on a tile of fewer rows
  // than half a line (AVX2's 6 floats) packing each micro-panel reads fewer lines (1024^3 A^T B on one
  // thread: 4-6% faster packed than read in place from the copy; 12 floats: 4-10% slower).
  const bool copy_whole = rows_alias_in_l1(P.lda * index_t(sizeof(T))) &&
                          stored_rows * pitch * index_t(sizeof(T)) <= kWholeACopyBytes &&
                          (!P.trans_a || mr * index_t(sizeof(T)) >= 32);
  T* a_copy = copy_whole ? thread_scratch<T>(kScratchGemmACopy, static_cast<std::size_t>(stored_rows * pitch))
                         : nullptr;
  Product<T> Q = P;  // P, reading A from its copy when it is copied whole
  if (copy_whole) {
    Q.A = a_copy;
    Q.lda = pitch;
  }
  const bool aliasing = rows_alias_in_l1(Q.lda * index_t(sizeof(T)));
  PanelTails tails(n_panels, threads, std::max<index_t>(1, group / 4));
#pragma omp parallel num_threads(threads)
  {
    const int team = team_size(), me = current_thread();
    if (copy_whole) {  // each thread copies its share of the rows; every thread reads all of them
      for (index_t r = stored_rows * me / team; r < stored_rows * (me + 1) / team; ++r)
        std::copy_n(P.A + r * P.lda, row_length, a_copy + r * pitch);
#pragma omp barrier
    }
    // A contiguous share of the column panels, or (split_rows) of the row panels with every column
    const index_t jp0 = split_rows ? 0 : n_panels * me / team;
    const index_t jp1 = split_rows ? n_panels : n_panels * (me + 1) / team;
    const index_t row0 = split_rows ? panel_row(row_panels * me / team, M, mr, kern.edge_mr, edge_from) : 0;
    const index_t row1 = split_rows ? panel_row(row_panels * (me + 1) / team, M, mr, kern.edge_mr, edge_from) : M;
    T* bgroup = thread_scratch<T>(kScratchGemmB, static_cast<std::size_t>(std::min(K, kc) * nr * group));
    T* aedge = thread_scratch<T>(kScratchGemmA, static_cast<std::size_t>(alias_free_pitch<T>(std::min(K, kc)) * mr));
    auto run_group = [&](index_t jg, index_t jg_end) {
      for (index_t pc = 0; pc < K; pc += kc) {
        const index_t kb = std::min(kc, K - pc);
        const T beta = pc == 0 ? Q.beta : T(1);
        const bool last_k = pc + kb == K;
        pack_b(bgroup, kern, Q, pc, kb, jg * nr, std::min(N, jg_end * nr) - jg * nr);
        // Row panel by row panel across the group: each A micro-panel stays in L1 while it meets the
        // group's B panels (in L2), and C is written along its rows, streams the prefetcher follows.
        for (index_t ir = row0; ir < row1;) {
          const bool edge = ir >= edge_from;
          const int height = edge ? kern.edge_mr : mr;
          const int m = static_cast<int>(std::min<index_t>(height, M - ir));
          // The last rows are packed, zero-padded to the tile's height, and so is an aliasing A by columns;
          // an aliasing A by rows is copied to rows a pitch apart that does not alias.
          const bool in_place = m == height && !(aliasing && Q.trans_a);
          const bool copy_rows = in_place && aliasing;
          if (!in_place) pack_a(aedge, kern, Q, ir, m, height, pc, kb);
          if (copy_rows)
            for (int r = 0; r < m; ++r) std::copy_n(Q.a_at(ir + r, pc), kb, aedge + r * alias_free_pitch<T>(kb));
          const T* a = in_place && !copy_rows ? Q.a_at(ir, pc) : aedge;
          const index_t a_stride = copy_rows ? alias_free_pitch<T>(kb) : in_place ? Q.lda : index_t(height);
          for (index_t jp = jg; jp < jg_end; ++jp) {
            const index_t j0 = jp * nr;
            tile(kern, Q, in_place && !Q.trans_a, edge, a, a_stride, bgroup + (jp - jg) * nr * kb, kb, beta, last_k,
                 ir, j0, m, static_cast<int>(std::min<index_t>(nr, N - j0)));
          }
          ir += height;
        }
      }
    };
    if (!split_rows && team == threads && team > 1) {
      const index_t own_end = tails.from(me);
      for (index_t jg = jp0; jg < own_end; jg += group) run_group(jg, std::min(own_end, jg + group));
      for (int k = 0; k < team; ++k) {  // this thread's tail first, then the others'
        const int t = (me + k) % team;
        for (index_t j, j_end; tails.claim(t, j, j_end);) run_group(j, j_end);
      }
    } else {
      for (index_t jg = row0 < row1 ? jp0 : jp1; jg < jp1; jg += group) run_group(jg, std::min(jp1, jg + group));
    }
  }
}

template <class T>
void gemm_blocked(const Product<T>& P, const GemmKernel<T>& kern) {
  const int mr = kern.mr, nr = kern.nr;
  const index_t M = P.M, N = P.N, K = P.K, kc = k_block(K, kern.kc), nc = kern.nc;
  // M is cut into equal blocks (a multiple of mr, at most mc): a short last block would leave one
  // thread idle while the other finishes a full one.
  const index_t m_blocks = ceil_div(M, kern.mc);
  const index_t m_step = ceil_div(ceil_div(M, m_blocks), mr) * mr;
  T* bbuf = thread_scratch<T>(kScratchGemmB, static_cast<std::size_t>(std::min(K, kc) * ceil_div(std::min(N, nc), nr) * nr));
#pragma omp parallel num_threads(threads_for(M * N * K))
  {
    const int team = team_size(), me = current_thread();
    T* abuf = thread_scratch<T>(kScratchGemmA, static_cast<std::size_t>(std::min(K, kc) * m_step));
    for (index_t jc = 0; jc < N; jc += nc) {
      const index_t nb = std::min(nc, N - jc);
      const index_t n_panels = ceil_div(nb, nr);
      for (index_t pc = 0; pc < K; pc += kc) {
        const index_t kb = std::min(kc, K - pc);
        const T beta = pc == 0 ? P.beta : T(1);
        const bool last_k = pc + kb == K;
        // Each thread packs a contiguous run of the B block's panels, row by row across them.
        const index_t jp0 = n_panels * me / team, jp1 = n_panels * (me + 1) / team;
        if (jp0 < jp1) pack_b(bbuf + jp0 * nr * kb, kern, P, pc, kb, jc + jp0 * nr, std::min(nb, jp1 * nr) - jp0 * nr);
#pragma omp barrier
        // Work units are (m block, B panel) pairs in m-major order; each thread takes one contiguous,
        // equal share, so it packs each of its A blocks once and the shares differ by at most one panel.
        const index_t units = m_blocks * n_panels, u1 = units * (me + 1) / team;
        for (index_t u = units * me / team; u < u1;) {
          const index_t ic = (u / n_panels) * m_step, ja = u % n_panels, jb = std::min(n_panels, ja + (u1 - u));
          const index_t mb = std::min(m_step, M - ic);
          pack_a(abuf, kern, P, ic, mb, mr, pc, kb);
          // each B micro-panel stays in L1 while the A block's micro-panels stream past it from L2
          for (index_t jp = ja; jp < jb; ++jp) {
            const index_t j0 = jc + jp * nr;
            const int n = static_cast<int>(std::min<index_t>(nr, N - j0));
            for (index_t ir = 0; ir < mb; ir += mr)
              tile(kern, P, false, false, abuf + ir * kb, index_t(mr), bbuf + jp * nr * kb, kb, beta, last_k, ic + ir, j0,
                   static_cast<int>(std::min<index_t>(mr, mb - ir)), n);
          }
          u += jb - ja;
        }
#pragma omp barrier
        // (nobody repacks B while another thread still reads it)
      }
    }
  }
}

// C = A B^T with both operands' rows along K and a result of a few values (see kernels/gemm_dot_simd.h):
// dot products of dot_r rows of A with dot_s rows of B straight from the operands, one task per such
// block of C. Rows past the edge repeat the last one; their sums are not stored.
template <class T>
void gemm_dot(const Product<T>& P, const GemmKernel<T>& kern) {
  const int R = kern.dot_r, S = kern.dot_s;
  const index_t tiles_n = ceil_div(P.N, S);
  parallel_for(ceil_div(P.M, R) * tiles_n, gemm_work(P.M * P.N * P.K), [&](index_t t) {
    const index_t i0 = t / tiles_n * R, j0 = t % tiles_n * S;
    const T* a_rows[kMaxDotRows];
    const T* b_rows[kMaxDotRows];
    T sums[kMaxDotRows * kMaxDotRows];
    for (int r = 0; r < R; ++r) a_rows[r] = P.a_at(std::min(i0 + r, P.M - 1), 0);
    for (int s = 0; s < S; ++s) b_rows[s] = P.b_at(0, std::min(j0 + s, P.N - 1));
    kern.dot(P.K, a_rows, b_rows, sums);
    for (int r = 0; r < R && i0 + r < P.M; ++r)
      for (int s = 0; s < S && j0 + s < P.N; ++s) {
        T* c = P.c_at(i0 + r, j0 + s);
        T v = P.alpha * sums[r * S + s] + (P.beta == T(0) ? T(0) : P.beta * *c);
        if (P.bias_along == BiasAlong::Rows) v += P.bias[i0 + r];
        if (P.bias_along == BiasAlong::Cols) v += P.bias[j0 + s];
        *c = v;
      }
  });
}

// Fewer column panels than threads: gemm_panels would leave a thread without work. With one panel each or
// more, sharing the panels beat gemm_blocked's shared B block and barriers on every 2-thread shape measured
// (64 x 64 x 4096: 345 against 426 us; 200 x 50 x 1000: 172 against 312 us).
inline bool few_panels_per_thread(index_t N, int nr, int threads) {
  return threads > 1 && ceil_div(N, nr) < threads;
}

// Panels or blocked, for a product already oriented (split-K's parts come here too).
template <class T>
void gemm_unsplit(const Product<T>& P, const GemmKernel<T>& kern) {
  if (few_panels_per_thread(P.N, kern.nr, threads_for(P.M * P.N * P.K))) gemm_blocked(P, kern);
  else gemm_panels(P, kern, false);
}

// The parts' products go to scratch rows of their own and are added in part order: the same sums for
// any thread count.
template <class T>
void gemm_split_k(const Product<T>& P, const GemmKernel<T>& kern, index_t k_parts, bool dot) {
  const index_t M = P.M, N = P.N, k_step = ceil_div(P.K, k_parts), mn = M * N;
  T* parts = thread_scratch<T>(kScratchGemmSplitK, static_cast<std::size_t>(k_parts * mn));
  parallel_for(k_parts, gemm_work(mn * P.K), [&](index_t part) {
    const index_t p0 = part * k_step, kb = std::min(k_step, P.K - p0);
    Product<T> slice = P;
    slice.C = parts + part * mn;
    slice.rs_c = N;
    slice.cs_c = 1;
    slice.A = P.a_at(0, p0);
    slice.B = P.b_at(p0, 0);
    slice.K = kb;
    slice.beta = T(0);
    slice.bias = nullptr;
    slice.bias_along = BiasAlong::None;
    if (dot) gemm_dot(slice, kern);  // serial: we are inside the parallel loop
    else gemm_unsplit(slice, kern);
  });
  for (index_t i = 0; i < M; ++i)
    for (index_t j = 0; j < N; ++j) {
      T* c = P.c_at(i, j);
      T sum = P.beta == T(0) ? T(0) : P.beta * *c;
      for (index_t part = 0; part < k_parts; ++part) sum += parts[part * mn + i * N + j];
      if (P.bias_along == BiasAlong::Rows) sum += P.bias[i];
      if (P.bias_along == BiasAlong::Cols) sum += P.bias[j];
      *c = sum;
    }
}

// The share of the register tiles' area that an (M, N) result fills.
inline double tile_fill(index_t M, index_t N, int mr, int nr) {
  return double(M) * double(N) / (double(ceil_div(M, mr) * mr) * double(ceil_div(N, nr) * nr));
}

// C := beta*C (+ bias) for the degenerate K == 0 product.
template <class T>
void scale_and_bias(const Product<T>& P) {
  for (index_t i = 0; i < P.M; ++i)
    for (index_t j = 0; j < P.N; ++j) {
      T* c = P.c_at(i, j);
      T v = P.beta == T(0) ? T(0) : P.beta * *c;
      if (P.bias_along == BiasAlong::Rows) v += P.bias[i];
      if (P.bias_along == BiasAlong::Cols) v += P.bias[j];
      *c = v;
    }
}

}  // namespace

template <class T>
bool gemm_prefers_transposed(index_t M, index_t N, index_t K) {
  const GemmKernel<T>& kern = gemm_kernel<T>();
  // The transposed product writes C through the kernel's scalar edge path: worth it only when the tile
  // fills much better and K is long enough to hide those stores.
  return K >= 64 && tile_fill(N, M, kern.mr, kern.nr) > 1.25 * tile_fill(M, N, kern.mr, kern.nr);
}

namespace {

// The cost of a product computed by gemm_panels one way round, for the slowest of `threads` threads, in units
// of one register-tile k step (mr cycles on the SIMD kernels: two vectors a row, two multiply-adds a cycle).
// Each thread takes its share of the column panels; for them it
//   runs the microkernel over whole tiles,
//   packs op(B) (a B that runs along K is transposed while it is packed, about twice a straight copy),
//   writes C through the kernel's scalar path when C is stored by columns (a product run as its transpose),
//   and reads A in place: by columns (trans_a) that is one row of A per k step, a new page when rows are long.
// The weights were fitted to 27 shapes timed both ways round at 1 and 2 threads on an AVX-512 Xeon (the mlp's
// and cnn's products among them; `python -m bench --only gemm` prints the choice beside the times). They
// turn a layer's x.W^T with a batch of 64 around (784 -> 256: 222 -> 180 us at 1 thread), where packing the
// weights cost more than packing the batch.
constexpr double kPackTransposing = 0.62, kPackCopying = 0.33, kScatteredStore = 1.2, kStridedARow = 5.5;

template <class T>
double panels_cost(const GemmKernel<T>& kern, index_t M, index_t N, index_t K, bool trans_a, bool trans_b,
                   bool c_by_columns, int threads) {
  const index_t panels = ceil_div(N, kern.nr);
  const index_t mine = ceil_div(panels, std::max<index_t>(1, std::min<index_t>(threads, panels)));
  const double columns = double(mine * kern.nr), row_panels = double(ceil_div(M, kern.mr));
  const double multiply_adds = double(computed_rows(M, kern.mr, kern.edge_mr)) * columns / kern.nr * double(K);
  const double packing = columns * double(K) * (trans_b ? kPackTransposing : kPackCopying);
  const double stores = c_by_columns ? columns * double(M) * kScatteredStore : 0.0;
  const double groups = double(ceil_div(mine * kern.nr, std::max<index_t>(kern.nc, kern.nr)));
  const double page_share = std::min(1.0, double(M) * sizeof(T) / 4096.0);
  const double strided_a = trans_a ? row_panels * double(K) * groups * page_share * kStridedARow : 0.0;
  return multiply_adds + packing + stores + strided_a;
}

}  // namespace

namespace {

// A product whose way round is settled by timing (gemm_tuning.h): large, and free to turn (a caller's split
// is kept as asked).
bool tuned(index_t M, index_t N, index_t K, GemmSplit split) {
  return split == GemmSplit::Auto && M * N * K >= kTunedMinMultiplyAdds;
}

}  // namespace

template <class T>
GemmShapeKey gemm_shape_key(index_t M, index_t N, index_t K, bool trans_a, bool trans_b) {
  return {M, N, K, trans_a, trans_b, threads_for(M * N * K), int(sizeof(T)), static_cast<int>(active_isa())};
}

template <class T>
GemmPlan gemm_plan(index_t M, index_t N, index_t K, bool trans_a, bool trans_b, GemmOrientation orientation,
                   GemmSplit split) {
  const GemmKernel<T>& kern = gemm_kernel<T>();
  const int threads = threads_for(M * N * K);
  GemmPlan plan{GemmStrategy::Panels, gemm_prefers_transposed<T>(M, N, K), 1, false, kern.mr, kern.nr,
                kern.mc, kern.kc, kern.nc, kern.edge_mr, 0, 0, false};
  index_t m = M, n = N;
  if (plan.transposed) std::swap(m, n);  // (C^T = B A^T keeps both operands along K if C = A B^T did)
  // A result of a few register tiles leaves every thread but one idle and most of a tile empty. With both
  // operands along K, dot products need no packing; either way a long K is split into parts computed
  // independently. The choice depends on the shape alone, never on the threads, so that the sums are
  // the same for any thread count.
  const bool few_tiles = ceil_div(m, kern.mr) * ceil_div(n, kern.nr) <= 4;
  const index_t k_parts = std::min<index_t>(16, K / (4 * kern.kc));
  plan.dot = few_tiles && !trans_a && trans_b && (K >= kDotMinK || m * n * 4 <= kern.mr * kern.nr);
  if (few_tiles && k_parts >= 2) {
    plan.strategy = GemmStrategy::SplitK;
    plan.k_parts = k_parts;
    return plan;
  }
  if (plan.dot) {
    plan.strategy = GemmStrategy::Dot;
    return plan;
  }
  // Panels or blocked: every element is the same sum of the same products either way round, so the way
  // round may depend on the threads, and is the cheaper one by panels_cost.
  if (orientation == GemmOrientation::Auto) {
    plan.transposed = panels_cost(kern, N, M, K, !trans_b, !trans_a, true, threads) <
                      panels_cost(kern, M, N, K, trans_a, trans_b, false, threads);
    if (tuned(M, N, K, split))
      plan.transposed = settled_orientation(gemm_shape_key<T>(M, N, K, trans_a, trans_b), plan.transposed);
  } else
    plan.transposed = orientation == GemmOrientation::Transposed;
  const index_t rows = plan.transposed ? N : M, edge_from = edge_rows_from(rows, kern.mr, kern.edge_mr);
  // The caller's split, when it asks for the rows of the product as computed and there are enough of them
  plan.split_rows = threads > 1 && split == (plan.transposed ? GemmSplit::Cols : GemmSplit::Rows) &&
                    row_panel_count(rows, kern.mr, kern.edge_mr, edge_from) >= threads;
  if (!plan.split_rows && few_panels_per_thread(plan.transposed ? M : N, kern.nr, threads))
    plan.strategy = GemmStrategy::Blocked;
  if (plan.strategy == GemmStrategy::Panels) {
    plan.mr_panels = ceil_div(edge_from, kern.mr);
    plan.edge_panels = kern.edge_mr ? ceil_div(rows - edge_from, kern.edge_mr) : 0;
  }
  return plan;
}

const char* gemm_strategy_name(GemmStrategy strategy) {
  switch (strategy) {
    case GemmStrategy::Blocked: return "blocked";
    case GemmStrategy::SplitK: return "split_k";
    case GemmStrategy::Dot: return "dot";
    case GemmStrategy::Panels: break;
  }
  return "panels";
}

namespace {

template <class T>
void run_plan(Product<T> P, const GemmKernel<T>& kern, const GemmPlan& plan) {
  if (plan.transposed) P = P.transposed();
  switch (plan.strategy) {
    case GemmStrategy::SplitK: return gemm_split_k(P, kern, plan.k_parts, plan.dot);
    case GemmStrategy::Dot: return gemm_dot(P, kern);
    case GemmStrategy::Blocked: return gemm_blocked(P, kern);
    case GemmStrategy::Panels: return gemm_panels(P, kern, plan.split_rows);
  }
}

}  // namespace

template <class T>
void gemm(T* C, index_t ldc, const T* A, index_t lda, const T* B, index_t ldb, index_t M, index_t N,
          index_t K, bool trans_a, bool trans_b, T alpha, T beta, const T* bias, BiasAlong bias_along,
          GemmOrientation orientation, GemmSplit split) {
  if (M <= 0 || N <= 0) return;
  if (bias == nullptr) bias_along = BiasAlong::None;
  Product<T> P{C, ldc, 1, A, lda, trans_a, B, ldb, trans_b, M, N, K, alpha, beta, bias, bias_along};
  if (K <= 0 || alpha == T(0)) return scale_and_bias(P);
  const GemmKernel<T>& kern = gemm_kernel<T>();
  GemmPlan plan = gemm_plan<T>(M, N, K, trans_a, trans_b, orientation, split);
  const bool by_panels = plan.strategy == GemmStrategy::Panels || plan.strategy == GemmStrategy::Blocked;
  if (!by_panels || orientation != GemmOrientation::Auto || !tuned(M, N, K, split)) return run_plan(P, kern, plan);
  // A large product's first calls run both ways round, timed, until its way is settled (gemm_tuning.h).
  const GemmShapeKey key = gemm_shape_key<T>(M, N, K, trans_a, trans_b);
  const OrientationTrial trial = next_orientation(key, plan.transposed);
  if (trial.transposed != plan.transposed)
    plan = gemm_plan<T>(M, N, K, trans_a, trans_b,
                        trial.transposed ? GemmOrientation::Transposed : GemmOrientation::AsGiven, split);
  if (!trial.timed) return run_plan(P, kern, plan);
  const auto start = std::chrono::steady_clock::now();
  run_plan(P, kern, plan);
  record_orientation_seconds(key, trial.transposed,
                             std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
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
    for (int i = 0; i < calls; ++i)
      kern.ukernel(k, 1.0f, a.data(), kern.mr, b.data(), 1.0f, c.data(), kern.nr, 1, kern.mr, kern.nr);
    const double seconds = std::chrono::duration<double>(clock::now() - start).count();
    best = std::max(best, 2.0 * kern.mr * kern.nr * k * calls / seconds / 1e9);
  }
  return best;
}

#define NNTRAIN_INSTANTIATE_GEMM(T)                                                                  \
  template void gemm<T>(T*, index_t, const T*, index_t, const T*, index_t, index_t, index_t,         \
                        index_t, bool, bool, T, T, const T*, BiasAlong, GemmOrientation, GemmSplit); \
  template void gemm_naive<T>(T*, index_t, const T*, index_t, const T*, index_t, index_t, index_t,   \
                              index_t, bool, bool, T, T, const T*, BiasAlong);                       \
  template bool gemm_prefers_transposed<T>(index_t, index_t, index_t);                               \
  template GemmPlan gemm_plan<T>(index_t, index_t, index_t, bool, bool, GemmOrientation, GemmSplit); \
  template GemmShapeKey gemm_shape_key<T>(index_t, index_t, index_t, bool, bool);
NNTRAIN_INSTANTIATE_GEMM(float)
NNTRAIN_INSTANTIATE_GEMM(double)
#undef NNTRAIN_INSTANTIATE_GEMM

}  // namespace nntrain
