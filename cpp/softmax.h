// Softmax and log-softmax over the last axis of a (rows, cols) matrix, with a temperature t:
//
//   softmax_forward (out,  x,          rows, cols, t)   out = softmax(x / t)
//   softmax_backward(dinp, dout, y,    rows, cols, t)   dinp += y * (dout - <dout, y>) / t
//   log_softmax_forward (out,  x,      rows, cols, t)   out = log softmax(x / t)
//   log_softmax_backward(dinp, dout, y, rows, cols, t)  dinp += (dout - exp(y) * sum(dout)) / t
//
// Backward takes the forward's output y, not x: both derivatives are cheapest written in it.
// The row maximum is subtracted before exp, so logits of any magnitude are safe.
#pragma once

#include "common.h"

namespace nntrain {

template <class T>
void softmax_forward(T* out, const T* x, index_t rows, index_t cols, double temperature);
template <class T>
void softmax_backward(T* dinp, const T* dout, const T* y, index_t rows, index_t cols, double temperature);

template <class T>
void log_softmax_forward(T* out, const T* x, index_t rows, index_t cols, double temperature);
template <class T>
void log_softmax_backward(T* dinp, const T* dout, const T* y, index_t rows, index_t cols, double temperature);

// Shared with the fused cross-entropy: writes exp((x - max) / t) into e and returns (max, sum of e)
// for one row of n values. Sums are carried in double.
template <class T>
void softmax_row_exp(T* e, const T* x, index_t n, T inv_t, T* max_out, double* sum_out);

}  // namespace nntrain
