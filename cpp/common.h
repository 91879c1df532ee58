// Shared vocabulary of every kernel file.
//
// Conventions (ARCHITECTURE.md, "Kernel conventions"):
//  - Raw pointers and sizes only; arguments ordered outputs, inputs, sizes.
//  - Shape letters: N batch, C channels, H/W height/width, OC out-channels, K reduction length,
//    M/N rows/cols of a GEMM result. Sizes and indices are `index_t` (signed 64-bit).
//  - Gradients are named d<name> (dout, dinp, dweight, dbias).
//  - THE ACCUMULATION RULE: a backward kernel ADDS its result into the gradient buffers it is given
//    (`dinp[i] += ...`), it never overwrites them. Callers pass zeroed buffers for a fresh gradient, or
//    a parameter's existing .grad to accumulate across uses; a residual branch adds for free.
//    A null gradient pointer means "not wanted" and the kernel skips that work.
//  - Kernels are templates over the scalar type: float for training, double for gradient checks.
//  - Ops parallelise their outermost independent loop with `parallel_for` (static schedule, only when
//    the work is worth a fork); GEMM and the optimiser updates keep their own parallel regions.
//    Reductions use partitions that do not depend on the thread count, so results are bit-identical
//    for any number of threads.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace nntrain {

using index_t = std::int64_t;

// Thrown for arguments a caller got wrong; pybind11 turns std::invalid_argument into ValueError.
#define NN_CHECK(cond, msg)                                                   \
  do {                                                                        \
    if (!(cond)) throw std::invalid_argument(std::string(msg));               \
  } while (0)

// ---- threads (threads.cpp is the only translation unit that includes <omp.h>) ----
int num_threads();              // threads an op may use (set_num_threads / OMP_NUM_THREADS)
void set_num_threads(int n);    // n >= 1
bool openmp_enabled();          // false when built without OpenMP
int current_thread();           // 0 outside a parallel region
int team_size();                // threads in the current parallel region (1 outside one)
bool in_parallel();             // true inside an OpenMP parallel region
// Below this many scalar operations a fork/join costs more than it saves.
constexpr index_t kParallelWork = 32768;
inline bool parallel_worth(index_t work) { return work > kParallelWork; }

// Flush-to-zero and denormals-are-zero: denormal Adam moments otherwise slow every op that touches
// them by 5-40%. The OpenMP workers get the mode once for good (`prepare_workers`, at import and on
// every thread-count change); the caller's thread gets it only for the duration of a kernel call
// (`FlushDenormalsScope` in the bindings), so NumPy code in the same thread is not affected.
void prepare_workers();
bool workers_flush_denormals();  // true if every worker thread has FTZ and DAZ set

class FlushDenormalsScope {
 public:
  FlushDenormalsScope();
  ~FlushDenormalsScope();
  FlushDenormalsScope(const FlushDenormalsScope&) = delete;
  FlushDenormalsScope& operator=(const FlushDenormalsScope&) = delete;

 private:
  unsigned saved_;
};

// Runs body(i) for every i in [0, count): on the op threads when `work` (scalar operations in all) is
// worth a fork and there is more than one item, else in the calling thread. The schedule is static and
// every item runs whole in one thread, so results cannot depend on the thread count as long as items
// write disjoint outputs -- the one rule for every parallel loop of the ops.
template <class F>
void parallel_for(index_t count, index_t work, F&& body) {
#pragma omp parallel for schedule(static) num_threads(num_threads()) if(parallel_worth(work) && count > 1)
  for (index_t i = 0; i < count; ++i) body(i);
}

// Ceiling division for tile counts.
inline index_t ceil_div(index_t a, index_t b) { return (a + b - 1) / b; }

}  // namespace nntrain
