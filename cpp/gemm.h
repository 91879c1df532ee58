// General matrix multiply on row-major matrices, with transpose flags and a bias epilogue:
//
//   C (M,N) := beta * C + alpha * op(A) · op(B) [+ bias]
//   op(A) (M,K) is A (M,K) with row stride lda, or A^T where A is (K,M), when trans_a;
//   op(B) (K,N) is B (K,N) with row stride ldb, or B^T where B is (N,K), when trans_b.
//   bias (M) is added along rows (bias[i] to row i: conv output channels) or bias (N) along columns
//   (bias[j] to column j: a Linear layer's outputs), in the same pass that writes the last K block.
//
// This covers a Linear layer without transposed copies: forward x·W^T (trans_b), dx = dy·W,
// dW += dy^T·x (trans_a, beta = 1). When beta == 0, C is not read. Results do not depend on the
// thread count: every C element is the same sum over the same K blocks in the same order.
#pragma once

#include "common.h"

namespace nntrain {

enum class BiasAlong { None, Rows, Cols };

// Which way round gemm computes a product by panels or blocks: its own choice (Auto), or forced, for tests
// and the benchmark that justifies the choice (the dot and split-K strategies always choose their own).
enum class GemmOrientation { Auto, AsGiven, Transposed };

// Which dimension of the result (as given) the threads divide into contiguous shares: GEMM's own choice
// (Auto: the column panels, or the rows when there are too few of those), or the caller's. A Linear layer
// asks for its weight's rows in the forward (C's columns) and the weight gradient (C's rows), the split the
// optimiser uses, so each core keeps its share of W, dW and the optimiser's state in its own L2 from step
// to step instead of fetching it from the other core's (the 784-256-128-10 mlp: 80-92k -> 92-112k
// samples/s at 2 threads).
enum class GemmSplit { Auto, Rows, Cols };

template <class T>
void gemm(T* C, index_t ldc, const T* A, index_t lda, const T* B, index_t ldb, index_t M, index_t N,
          index_t K, bool trans_a, bool trans_b, T alpha, T beta, const T* bias = nullptr,
          BiasAlong bias_along = BiasAlong::None, GemmOrientation orientation = GemmOrientation::Auto,
          GemmSplit split = GemmSplit::Auto);

// True when GEMM computes an (M, N) result faster as its transpose (N, M) (the register tile fills better
// that way round). A caller free to lay out a result either way (conv2d's per-group weight gradients)
// asks this and stores it the way GEMM computes it, with no scattered writes.
template <class T>
bool gemm_prefers_transposed(index_t M, index_t N, index_t K);

// How gemm computes an (M, N, K) product with the kernels and thread count in use (gemm.cpp's top
// comment describes the strategies); exposed so tests can reach each one on purpose.
enum class GemmStrategy { Panels, Blocked, SplitK, Dot };
struct GemmPlan {
  GemmStrategy strategy;
  bool transposed;   // computed as C^T = op(B)^T op(A)^T
  index_t k_parts;   // SplitK only
  bool dot;          // Dot, or SplitK whose parts are computed by the dot kernel
  int mr, nr;        // register tile
  index_t mc, kc, nc;
  // Panels: the result's row panels (after any turn), mr_panels of mr rows then edge_panels of edge_mr rows.
  int edge_mr;
  index_t mr_panels, edge_panels;
  bool split_rows;   // Panels: the threads share out the row panels (each packing all of B), not the columns
};
template <class T>
GemmPlan gemm_plan(index_t M, index_t N, index_t K, bool trans_a, bool trans_b,
                   GemmOrientation orientation = GemmOrientation::Auto, GemmSplit split = GemmSplit::Auto);
const char* gemm_strategy_name(GemmStrategy strategy);

// The naive twin (same contract, a plain triple loop, serial): an oracle for tests and a bench baseline.
template <class T>
void gemm_naive(T* C, index_t ldc, const T* A, index_t lda, const T* B, index_t ldb, index_t M,
                index_t N, index_t K, bool trans_a, bool trans_b, T alpha, T beta,
                const T* bias = nullptr, BiasAlong bias_along = BiasAlong::None);

// The microkernel's ceiling on this CPU: GFLOP/s of one thread running it on panels that stay in L1
// (no packing, no memory traffic). Benchmarks report GEMM rates as a share of it times the threads.
double ukernel_peak_gflops();

}  // namespace nntrain
