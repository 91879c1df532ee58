// Sums over a contiguous run that vectorise without -ffast-math: independent accumulators (a plain
// `s += x[i]` is one dependency chain the compiler may not reorder), combined in a fixed order, so the
// result depends on the data and n only -- never on threads or chunking. lane_sum keeps eight in double;
// lane_sums2 keeps two sums of sixteen in the element type. Internal linkage: the elementwise kernels are
// compiled once per instruction set and each copy must stay its own.
#pragma once

#include "common.h"

namespace nntrain {
namespace {

namespace lanes {
constexpr int kLanes = 8;

inline double combine(const double* acc) {
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}
}  // namespace lanes

// sum_i f(i) for i in [0, n), f returning double.
template <class F>
inline double lane_sum(index_t n, F f) {
  double acc[lanes::kLanes] = {};
  index_t i = 0;
  for (; i + lanes::kLanes <= n; i += lanes::kLanes)
    for (int l = 0; l < lanes::kLanes; ++l) acc[l] += f(i + l);
  for (int l = 0; i < n; ++i, ++l) acc[l] += f(i);
  return lanes::combine(acc);
}

// Two sums over one pass, each in the element type T: sums[0] += sum_i a(i) and sums[1] += sum_i b(i),
// add(i, a, b) adding element i's two terms into its accumulators. Sixteen accumulators per sum (one
// AVX-512 vector of floats, two AVX2 ones), combined in double in a fixed order. For the runs it serves
// (an image plane: tens to a few hundred values, so each accumulator adds a few dozen of them) float's
// rounding stays at the level of PyTorch's float accumulation, at a quarter of the cost of converting
// every value to double, and one pass reads the operands once instead of once per sum.
template <class T, class Add>
inline void lane_sums2(index_t n, Add add, double sums[2]) {
  constexpr int kWide = 16;
  T a[kWide] = {}, b[kWide] = {};
  index_t i = 0;
  for (; i + kWide <= n; i += kWide)
#pragma omp simd
    for (int l = 0; l < kWide; ++l) add(i + l, a[l], b[l]);
  for (int l = 0; i < n; ++i, ++l) add(i, a[l], b[l]);
  double da[lanes::kLanes], db[lanes::kLanes];
  for (int l = 0; l < lanes::kLanes; ++l) {
    da[l] = double(a[l]) + double(a[l + lanes::kLanes]);
    db[l] = double(b[l]) + double(b[l + lanes::kLanes]);
  }
  sums[0] += lanes::combine(da);
  sums[1] += lanes::combine(db);
}

}  // namespace
}  // namespace nntrain
