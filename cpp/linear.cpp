#include "linear.h"

#include "gemm.h"
#include "reduce.h"

namespace nntrain {

// The forward and the weight gradient divide the weight's rows among the threads (the output's columns, the
// gradient's rows), as the optimiser does: each core keeps its share of W, dW and their optimiser state
// (gemm.h, GemmSplit).
template <class T>
void linear_forward(T* out, const T* x, const T* weight, const T* bias, index_t N, index_t IN, index_t OUT) {
  gemm<T>(out, OUT, x, IN, weight, IN, N, OUT, IN, false, true, T(1), T(0), bias, BiasAlong::Cols,
          GemmOrientation::Auto, GemmSplit::Cols);
}

template <class T>
void linear_backward(T* dx, T* dweight, T* dbias, const T* dout, const T* x, const T* weight, index_t N,
                     index_t IN, index_t OUT, bool accumulate) {
  const T beta = accumulate ? T(1) : T(0);
  if (dx) gemm<T>(dx, IN, dout, OUT, weight, IN, N, IN, OUT, false, false, T(1), beta);
  if (dweight)
    gemm<T>(dweight, IN, dout, OUT, x, IN, OUT, IN, N, true, false, T(1), beta, nullptr, BiasAlong::None,
            GemmOrientation::Auto, GemmSplit::Rows);
  if (dbias) sum_rows<T>(dbias, dout, N, OUT, accumulate);
}

template void linear_forward<float>(float*, const float*, const float*, const float*, index_t, index_t, index_t);
template void linear_forward<double>(double*, const double*, const double*, const double*, index_t, index_t,
                                     index_t);
template void linear_backward<float>(float*, float*, float*, const float*, const float*, const float*, index_t,
                                     index_t, index_t, bool);
template void linear_backward<double>(double*, double*, double*, const double*, const double*, const double*,
                                      index_t, index_t, index_t, bool);

}  // namespace nntrain
