#include "softmax.h"

#include "dispatch.h"

namespace nntrain {

// Rows are independent: one row per parallel item, each computed by the kernels of the ISA in use
// (kernels/elementwise_loops.h).

template <class T>
void softmax_forward(T* out, const T* x, index_t rows, index_t cols, double temperature) {
  const ElementwiseKernels<T>& k = elementwise_kernels<T>();
  const T inv_t = static_cast<T>(1.0 / temperature);
  parallel_for(rows, rows * cols, [&](index_t r) { k.softmax_forward_row(out + r * cols, x + r * cols, cols, inv_t); });
}

template <class T>
void softmax_backward(T* dinp, const T* dout, const T* y, index_t rows, index_t cols, double temperature,
                      bool accumulate) {
  const ElementwiseKernels<T>& k = elementwise_kernels<T>();
  const T inv_t = static_cast<T>(1.0 / temperature);
  parallel_for(rows, rows * cols, [&](index_t r) {
    k.softmax_backward_row(dinp + r * cols, dout + r * cols, y + r * cols, cols, inv_t, accumulate);
  });
}

template <class T>
void log_softmax_forward(T* out, const T* x, index_t rows, index_t cols, double temperature) {
  const ElementwiseKernels<T>& k = elementwise_kernels<T>();
  const T inv_t = static_cast<T>(1.0 / temperature);
  parallel_for(rows, rows * cols, [&](index_t r) { k.log_softmax_forward_row(out + r * cols, x + r * cols, cols, inv_t); });
}

template <class T>
void log_softmax_backward(T* dinp, const T* dout, const T* y, index_t rows, index_t cols, double temperature,
                          bool accumulate) {
  const ElementwiseKernels<T>& k = elementwise_kernels<T>();
  const T inv_t = static_cast<T>(1.0 / temperature);
  parallel_for(rows, rows * cols, [&](index_t r) {
    k.log_softmax_backward_row(dinp + r * cols, dout + r * cols, y + r * cols, cols, inv_t, accumulate);
  });
}

#define NNTRAIN_INSTANTIATE(T)                                                                     \
  template void softmax_forward<T>(T*, const T*, index_t, index_t, double);                         \
  template void softmax_backward<T>(T*, const T*, const T*, index_t, index_t, double, bool);        \
  template void log_softmax_forward<T>(T*, const T*, index_t, index_t, double);                     \
  template void log_softmax_backward<T>(T*, const T*, const T*, index_t, index_t, double, bool);
NNTRAIN_INSTANTIATE(float)
NNTRAIN_INSTANTIATE(double)
#undef NNTRAIN_INSTANTIATE

}  // namespace nntrain
