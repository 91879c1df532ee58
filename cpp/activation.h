// Elementwise activations, each a forward/backward pair of the same shape:
//
//   activation_forward (kind, out,  x,          n, param)   out[i]   = f(x[i])
//   activation_backward(kind, dinp, dout, x, y, n, param, accumulate)
//                                                          dinp[i] (+)= dout[i] * f'(x[i])
//
// The backward writes dinp, or adds to it when accumulating: a new gradient needs no zero-fill pass
// (which, with the read of what it filled, made ReLU's backward move five arrays' bytes instead of three).
// y is the forward's output: sigmoid and tanh take their derivative from it (f' = y(1-y), 1-y^2),
// the others from x. `param` is LeakyReLU's negative_slope and ELU's alpha; unused otherwise.
// Formulas follow PyTorch's CPU kernels so results agree to rounding.
#pragma once

#include "common.h"

namespace nntrain {

enum class Activation { Relu, LeakyRelu, Elu, Sigmoid, Tanh, GeluErf, GeluTanh };

// Sigmoid and tanh differentiate through their output y, the others through their input x.
inline bool derivative_reads_output(Activation kind) {
  return kind == Activation::Sigmoid || kind == Activation::Tanh;
}

template <class T>
void activation_forward(Activation kind, T* out, const T* x, index_t n, double param);

template <class T>
void activation_backward(Activation kind, T* dinp, const T* dout, const T* x, const T* y, index_t n,
                         double param, bool accumulate);

}  // namespace nntrain
