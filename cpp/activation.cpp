#include "activation.h"

#include <algorithm>

#include "dispatch.h"

namespace nntrain {

namespace {

// Elementwise loops split into fixed chunks, each handed to the kernels of the ISA in use
// (kernels/elementwise_loops.h has the formulas); each element depends only on its own inputs, so the
// split never changes a result.
template <class F>
void for_each_chunk(index_t n, F&& body) {
  constexpr index_t kChunk = 16384;
  parallel_for(ceil_div(n, kChunk), n, [&](index_t c) { body(c * kChunk, std::min(n, (c + 1) * kChunk)); });
}

}  // namespace

template <class T>
void activation_forward(Activation kind, T* out, const T* x, index_t n, double param) {
  const ElementwiseKernels<T>& k = elementwise_kernels<T>();
  const T a = static_cast<T>(param);
  for_each_chunk(n, [&](index_t b, index_t e) { k.activation_forward(kind, out + b, x + b, e - b, a); });
}

template <class T>
void activation_backward(Activation kind, T* dinp, const T* dout, const T* x, const T* y, index_t n,
                         double param, bool accumulate) {
  const ElementwiseKernels<T>& k = elementwise_kernels<T>();
  const T a = static_cast<T>(param);
  const T* v = derivative_reads_output(kind) ? y : x;
  for_each_chunk(n, [&](index_t b, index_t e) {
    k.activation_backward(kind, dinp + b, dout + b, v + b, e - b, a, accumulate);
  });
}

template void activation_forward<float>(Activation, float*, const float*, index_t, double);
template void activation_forward<double>(Activation, double*, const double*, index_t, double);
template void activation_backward<float>(Activation, float*, const float*, const float*, const float*, index_t,
                                         double, bool);
template void activation_backward<double>(Activation, double*, const double*, const double*, const double*,
                                          index_t, double, bool);

}  // namespace nntrain
