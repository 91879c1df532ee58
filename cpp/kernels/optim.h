// The optimiser updates and the sum of squares behind the gradient norms, one contiguous run each, as a
// table per instruction set like kernels/elementwise.h: optim_update.cpp keeps the cutting of parameter
// lists into chunks and threads and calls these on each chunk. The loops are kernels/optim_loops.h,
// compiled by each ISA file with its own flags, so Adam's sqrt and division run 4, 8 or 16 lanes at a time.
//
// The ISA files are compiled with -ffp-contract=off: no multiply and add is fused, so every element rounds
// exactly as in the baseline build, and an update is bit-identical on every instruction set (a run resumed
// on another CPU continues the same numbers). The formulas are PyTorch 2.x's (torch.optim.SGD, Adagrad,
// RMSprop, Adam, AdamW), evaluated in the same order; hyper-parameters arrive as double and values derived
// from them are computed in double, then rounded once to T, as PyTorch does. NaN and Inf propagate.
#pragma once

#include <cstdint>

#include "common.h"

namespace nntrain {

template <class T>
struct OptimKernels {
  // param, momentum_buf (null when momentum == 0), grad: (n) -> param, momentum_buf updated in place.
  // g = grad + wd*param; buf = first_step ? g : momentum*buf + (1-dampening)*g;
  // g = nesterov ? g + momentum*buf : buf; param -= lr*g.
  void (*sgd)(T* param, T* momentum_buf, const T* grad, index_t n, double lr, double momentum, double dampening,
              double weight_decay, bool nesterov, bool first_step);
  // param, state_sum, grad: (n). clr = lr/(1+(step-1)*lr_decay); g = grad + wd*param; sum += g*g;
  // param -= clr*g/(sqrt(sum)+eps).
  void (*adagrad)(T* param, T* state_sum, const T* grad, index_t n, double lr, double lr_decay,
                  double weight_decay, double eps, std::int64_t step);
  // param, square_avg, momentum_buf (null when momentum == 0), grad_avg (null unless centered), grad: (n).
  // g = grad + wd*param; sq = alpha*sq + (1-alpha)*g*g; avg = sqrt(sq [- grad_avg^2 after
  // grad_avg = lerp(grad_avg, g, 1-alpha) when centered]) + eps;
  // momentum: buf = momentum*buf + g/avg, param -= lr*buf; otherwise param -= lr*g/avg.
  void (*rmsprop)(T* param, T* square_avg, T* momentum_buf, T* grad_avg, const T* grad, index_t n, double lr,
                  double alpha, double eps, double weight_decay, double momentum, bool centered);
  // param, exp_avg, exp_avg_sq, grad: (n). Adam: g = grad + wd*param; AdamW (decoupled): param *= 1 - lr*wd.
  // m = lerp(m, g, 1-beta1); v = beta2*v + (1-beta2)*g*g; bc_i = 1 - beta_i^step;
  // param -= (lr/bc1) * m / (sqrt(v)/sqrt(bc2) + eps), evaluated as
  // param -= (lr/bc1 * sqrt(bc2)) * m / (sqrt(v) + eps*sqrt(bc2)) (one divide fewer; see adam_loop).
  void (*adam)(T* param, T* exp_avg, T* exp_avg_sq, const T* grad, index_t n, double lr, double beta1,
               double beta2, double eps, double weight_decay, std::int64_t step, bool decoupled);
  // sum of x[i]^2 (n) in double: float lanes within fixed blocks, combined in double in a fixed order, so
  // the result depends on the values and n only, on every instruction set (see sum_squares_loop).
  double (*sum_squares)(const T* x, index_t n);
  const char* compiled_for;  // kernels/compiled_isa.h of the file that made the table
};

OptimKernels<float> optim_kernels_float_ref();
OptimKernels<double> optim_kernels_double_ref();
OptimKernels<float> optim_kernels_float_avx2();
OptimKernels<double> optim_kernels_double_avx2();
OptimKernels<float> optim_kernels_float_avx512();
OptimKernels<double> optim_kernels_double_avx512();

}  // namespace nntrain
