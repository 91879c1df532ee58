#include "softmax.h"

#include <cmath>

#include "fast_math.h"
#include "lane_sum.h"

namespace nntrain {

template <class T>
void softmax_row_exp(T* e, const T* x, index_t n, T inv_t, T* max_out, double* sum_out) {
  T m = -INFINITY;
  for (index_t j = 0; j < n; ++j) m = x[j] > m ? x[j] : m;
  // A row of -inf (or an empty row) has no finite maximum; subtracting 0 keeps exp well defined.
  const T shift = std::isfinite(m) ? m : T(0);
  for (index_t j = 0; j < n; ++j) e[j] = fast_exp((x[j] - shift) * inv_t);  // vectorises
  const double s = lane_sum(n, [e](index_t j) { return double(e[j]); });
  *max_out = shift;
  *sum_out = s;
}

template <class T>
void softmax_forward(T* out, const T* x, index_t rows, index_t cols, double temperature) {
  const T inv_t = static_cast<T>(1.0 / temperature);
  parallel_for(rows, rows * cols, [&](index_t r) {
    T* o = out + r * cols;
    T m;
    double s;
    softmax_row_exp(o, x + r * cols, cols, inv_t, &m, &s);
    const T inv_s = static_cast<T>(1.0 / s);
    for (index_t j = 0; j < cols; ++j) o[j] *= inv_s;
  });
}

template <class T>
void softmax_backward(T* dinp, const T* dout, const T* y, index_t rows, index_t cols, double temperature) {
  const T inv_t = static_cast<T>(1.0 / temperature);
  parallel_for(rows, rows * cols, [&](index_t r) {
    const T* g = dout + r * cols;
    const T* yr = y + r * cols;
    double dot = 0.0;
    for (index_t j = 0; j < cols; ++j) dot += double(g[j]) * yr[j];
    const T d = static_cast<T>(dot);
    T* di = dinp + r * cols;
    for (index_t j = 0; j < cols; ++j) di[j] += yr[j] * (g[j] - d) * inv_t;
  });
}

template <class T>
void log_softmax_forward(T* out, const T* x, index_t rows, index_t cols, double temperature) {
  const T inv_t = static_cast<T>(1.0 / temperature);
  parallel_for(rows, rows * cols, [&](index_t r) {
    T* o = out + r * cols;
    const T* xr = x + r * cols;
    T m;
    double s;
    softmax_row_exp(o, xr, cols, inv_t, &m, &s);  // o is scratch here, overwritten below
    const T log_s = static_cast<T>(std::log(s));
    for (index_t j = 0; j < cols; ++j) o[j] = (xr[j] - m) * inv_t - log_s;
  });
}

template <class T>
void log_softmax_backward(T* dinp, const T* dout, const T* y, index_t rows, index_t cols, double temperature) {
  const T inv_t = static_cast<T>(1.0 / temperature);
  parallel_for(rows, rows * cols, [&](index_t r) {
    const T* g = dout + r * cols;
    const T* yr = y + r * cols;
    double sum = 0.0;
    for (index_t j = 0; j < cols; ++j) sum += g[j];
    const T s = static_cast<T>(sum);
    T* di = dinp + r * cols;
    for (index_t j = 0; j < cols; ++j) di[j] += (g[j] - fast_exp(yr[j]) * s) * inv_t;
  });
}

#define NNTRAIN_INSTANTIATE(T)                                                                     \
  template void softmax_row_exp<T>(T*, const T*, index_t, T, T*, double*);                          \
  template void softmax_forward<T>(T*, const T*, index_t, index_t, double);                         \
  template void softmax_backward<T>(T*, const T*, const T*, index_t, index_t, double);              \
  template void log_softmax_forward<T>(T*, const T*, index_t, index_t, double);                     \
  template void log_softmax_backward<T>(T*, const T*, const T*, index_t, index_t, double);
NNTRAIN_INSTANTIATE(float)
NNTRAIN_INSTANTIATE(double)
#undef NNTRAIN_INSTANTIATE

}  // namespace nntrain
