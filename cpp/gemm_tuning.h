// Which way round a large product runs, settled by timing it.
//
// gemm_plan's cost rule weighs packing, scattered stores and strided reads of A with weights fitted on one
// CPU (an AVX-512 Xeon). On another the weights differ: on AMD Zen 4 the cnn's 64 x 12544 x 576 im2col
// product ran 9% faster turned around at 1 thread (11% with the AVX2 kernels), against the rule. So a
// product with enough multiply-adds that a clock read costs nothing beside it (kTunedMinMultiplyAdds) runs
// its first calls both ways round, timed, and from then on the faster way. Both ways give every element the
// same bits (gemm.cpp), so results do not depend on the timing; only the speed does.
#pragma once

#include <vector>

#include "common.h"

namespace nntrain {

// The products timed: at least this many multiply-adds (a third of a millisecond at 200 GFLOP/s).
constexpr index_t kTunedMinMultiplyAdds = index_t(1) << 25;
// Timed calls of each way round before the choice is settled (after an untimed first call: taken model, other,
// other, model, model, other, so that a drift of the machine's speed falls on both), the calls that takes, and
// how much faster than the model's fastest call every call the other way must be to replace it: the rule keeps
// ties. With two calls each way, one 'python -m bench --only gemm' run in three turned 1024^3 the slower way
// (198 against 216 GFLOP/s): a burst of load fell on both of the rule's calls.
constexpr int kTrialsPerWay = 3;
constexpr int kTuningCalls = 1 + 2 * kTrialsPerWay;
constexpr double kTurnMargin = 0.03;

// What is timed apart: a product's shape and flags, the threads that run it, its element type and the kernels.
struct GemmShapeKey {
  index_t M, N, K;
  bool trans_a, trans_b;
  int threads, element_bytes, isa;
  bool operator<(const GemmShapeKey& o) const;
};

// The key of a product gemm would run now (gemm.cpp: the threads it would take, the kernels in use).
template <class T>
GemmShapeKey gemm_shape_key(index_t M, index_t N, index_t K, bool trans_a, bool trans_b);

struct OrientationTrial {
  bool transposed;  // the way round to run this call
  bool timed;       // report its seconds with record_orientation_seconds
};

// The way round for this call of `key`'s product: the settled choice, or the next trial while it is open.
OrientationTrial next_orientation(const GemmShapeKey& key, bool model_transposed);
void record_orientation_seconds(const GemmShapeKey& key, bool transposed, double seconds);
// The settled way round of `key`'s product, or the cost rule's (`model_transposed`) while none is settled.
bool settled_orientation(const GemmShapeKey& key, bool model_transposed);

// For tests and `python -m bench`: every product timed so far, and forgetting them.
struct OrientationRecord {
  GemmShapeKey key;
  bool model_transposed;
  double best_seconds[2];  // [as given, transposed]: the fastest timed call each way, 0 before any
  int settled;             // -1 while trials are open, else 1 if transposed
};
std::vector<OrientationRecord> orientation_records();
void clear_orientation_records();

}  // namespace nntrain
