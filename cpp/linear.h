// Fully connected layer, PyTorch layout: weight (OUT, IN), y = x · W^T + b.
#pragma once

#include "common.h"

namespace nntrain {

// x (N, IN), weight (OUT, IN), bias (OUT) or null -> out (N, OUT)
template <class T>
void linear_forward(T* out, const T* x, const T* weight, const T* bias, index_t N, index_t IN, index_t OUT);

// dout (N, OUT), x (N, IN), weight (OUT, IN) -> dx (N, IN) += dout·W, dweight (OUT, IN) += dout^T·x,
// dbias (OUT) += column sums of dout. Any gradient pointer may be null. accumulate=false writes (=) instead
// of adding, so fresh gradients need no zero-fill (the products run with beta = 0).
template <class T>
void linear_backward(T* dx, T* dweight, T* dbias, const T* dout, const T* x, const T* weight, index_t N,
                     index_t IN, index_t OUT, bool accumulate = true);

}  // namespace nntrain
