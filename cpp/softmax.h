// Softmax and log-softmax over the last axis of a (rows, cols) matrix, with a temperature t:
//
//   softmax_forward (out,  x,          rows, cols, t)   out = softmax(x / t)
//   softmax_backward(dinp, dout, y,    rows, cols, t, accumulate)   dinp (+)= y * (dout - <dout, y>) / t
//   log_softmax_forward (out,  x,      rows, cols, t)               out = log softmax(x / t)
//   log_softmax_backward(dinp, dout, y, rows, cols, t, accumulate)  dinp (+)= (dout - exp(y) * sum(dout)) / t
//
// The backwards write dinp, or add to it when accumulating (a new gradient needs no zero-fill pass).
// Backward takes the forward's output y, not x: both derivatives are cheapest written in it.
// The row maximum is subtracted before exp, so logits of any magnitude are safe. The rows are computed by
// the elementwise kernels of the ISA in use (kernels/elementwise.h), which the fused cross-entropy shares.
#pragma once

#include "common.h"

namespace nntrain {

template <class T>
void softmax_forward(T* out, const T* x, index_t rows, index_t cols, double temperature);
template <class T>
void softmax_backward(T* dinp, const T* dout, const T* y, index_t rows, index_t cols, double temperature,
                      bool accumulate);

template <class T>
void log_softmax_forward(T* out, const T* x, index_t rows, index_t cols, double temperature);
template <class T>
void log_softmax_backward(T* dinp, const T* dout, const T* y, index_t rows, index_t cols, double temperature,
                          bool accumulate);

}  // namespace nntrain
