// The LSTM cell's elementwise part, fused: from the gate pre-activations of one step to the new state, as a
// forward/backward pair of the same shape. The two matrix products that make the pre-activations stay on
// the GEMM kernels (nn/rnn.py); this replaces the dozen elementwise ops per step that the tape would
// otherwise record one by one.
//
//   lstm_cell_forward (h, c, act,        gates, c_prev,             N, H)
//   lstm_cell_backward(dgates, dc_prev,  dh, dc, act, c_prev, c,    N, H)
//
//   gates (N, 4H) = x W_ih^T + b_ih + h W_hh^T + b_hh, in PyTorch's order [i f g o]
//   forward:   i, f, o = sigmoid(.), g = tanh(.)          (kept in act (N, 4H) for backward)
//              c = f c_prev + i g,   h = o tanh(c)
//   backward:  t = tanh(c),   dC = dc + dh o (1 - t^2)    (the cell state's gradient, both ways it is used)
//              dgates += [dC g i (1 - i),  dC c_prev f (1 - f),  dC i (1 - g^2),  dh t o (1 - o)]
//              dc_prev += dC f
//
// dh or dc may be null (no gradient reached that output: zero); dc_prev may be null (not wanted). Rows are
// independent; threads take whole rows.
#pragma once

#include "common.h"

namespace nntrain {

template <class T>
void lstm_cell_forward(T* h, T* c, T* act, const T* gates, const T* c_prev, index_t N, index_t H);

template <class T>
void lstm_cell_backward(T* dgates, T* dc_prev, const T* dh, const T* dc, const T* act, const T* c_prev, const T* c,
                        index_t N, index_t H);

}  // namespace nntrain
