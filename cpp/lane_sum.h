// Sums over a contiguous run that vectorise without -ffast-math: eight independent double accumulators
// (a plain `s += x[i]` is one dependency chain the compiler may not reorder), combined in a fixed order,
// so the result depends on the data and n only -- never on threads or chunking. Internal linkage: the
// elementwise kernels are compiled once per instruction set and each copy must stay its own.
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

}  // namespace
}  // namespace nntrain
