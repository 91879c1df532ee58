// Thread-count control and per-thread floating-point mode; the only file that includes <omp.h>.
#include "common.h"

#include <xmmintrin.h>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace nntrain {

namespace {
constexpr unsigned kFtzDaz = 0x8040;  // MXCSR bits: FTZ (15) | DAZ (6)

int initial_threads() {
#ifdef _OPENMP
  return omp_get_max_threads();  // honours OMP_NUM_THREADS
#else
  return 1;
#endif
}
int g_num_threads = initial_threads();
bool g_workers_ftz = false;
}  // namespace

int num_threads() { return g_num_threads; }

void set_num_threads(int n) {
  NN_CHECK(n >= 1, "num_threads must be >= 1, got " + std::to_string(n));
#ifdef _OPENMP
  g_num_threads = n;
  prepare_workers();
#else
  g_num_threads = 1;
#endif
}

bool openmp_enabled() {
#ifdef _OPENMP
  return true;
#else
  return false;
#endif
}

int current_thread() {
#ifdef _OPENMP
  return omp_get_thread_num();
#else
  return 0;
#endif
}

int team_size() {
#ifdef _OPENMP
  return omp_get_num_threads();
#else
  return 1;
#endif
}

bool in_parallel() {
#ifdef _OPENMP
  return omp_in_parallel() != 0;
#else
  return false;
#endif
}

void prepare_workers() {
  bool all = true;
#ifdef _OPENMP
#pragma omp parallel num_threads(g_num_threads) reduction(&& : all)
  {
    if (omp_get_thread_num() != 0) _mm_setcsr(_mm_getcsr() | kFtzDaz);
    all = omp_get_thread_num() == 0 || (_mm_getcsr() & kFtzDaz) == kFtzDaz;
  }
#endif
  g_workers_ftz = all;
}

bool workers_flush_denormals() { return g_workers_ftz; }

FlushDenormalsScope::FlushDenormalsScope() : saved_(_mm_getcsr()) { _mm_setcsr(saved_ | kFtzDaz); }
FlushDenormalsScope::~FlushDenormalsScope() { _mm_setcsr(saved_); }

}  // namespace nntrain
