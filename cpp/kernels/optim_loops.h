// The optimiser loops of kernels/optim.h, written once in plain C++ and included by each ISA file, whose
// compiler flags decide the vector width. Internal linkage throughout, and no inline function of the
// standard library (sqrt and abs are the compiler's builtins, pow the C library's double pow): no inline
// function compiled here can be chosen by the linker for code that runs on an older CPU.
//
// Each line mirrors one PyTorch tensor op, evaluated as its CPU kernel does:
//   a.add(b, alpha=s)          a + s*b
//   a.addcmul(b, c, value=s)   a + (s*b)*c
//   a.addcdiv(b, c, value=s)   a + (s*b)/c
//   a.lerp(b, w)               the two-sided form of lerp() below
// so float32 results round like PyTorch's (up to the FMA contractions PyTorch's vector code may use).
// One exception, Adam's denominator: see adam_loop.
#pragma once

#include "kernels/compiled_isa.h"
#include "kernels/optim.h"

namespace nntrain {
namespace {

inline float root(float x) { return __builtin_sqrtf(x); }
inline double root(double x) { return __builtin_sqrt(x); }
inline float magnitude(float x) { return __builtin_fabsf(x); }
inline double magnitude(double x) { return __builtin_fabs(x); }

template <class T>
inline T lerp(T self, T end, T weight) {
  return magnitude(weight) < T(0.5) ? self + weight * (end - self) : end - (end - self) * (T(1) - weight);
}

template <class T>
void sgd_loop(T* param, T* momentum_buf, const T* grad, index_t n, double lr, double momentum, double dampening,
              double weight_decay, bool nesterov, bool first_step) {
  const T wd = T(weight_decay), mom = T(momentum), keep = T(1.0 - dampening), neg_lr = T(-lr);
  const bool decay = weight_decay != 0, use_momentum = momentum != 0;
  for (index_t i = 0; i < n; ++i) {
    T g = grad[i];
    if (decay) g = g + wd * param[i];
    if (use_momentum) {
      const T buf = first_step ? g : momentum_buf[i] * mom + keep * g;
      momentum_buf[i] = buf;
      g = nesterov ? g + mom * buf : buf;
    }
    param[i] = param[i] + neg_lr * g;
  }
}

template <class T>
void adagrad_loop(T* param, T* state_sum, const T* grad, index_t n, double lr, double lr_decay, double weight_decay,
                  double eps, std::int64_t step) {
  const double clr = lr / (1 + static_cast<double>(step - 1) * lr_decay);
  const T wd = T(weight_decay), e = T(eps), neg_clr = T(-clr);
  const bool decay = weight_decay != 0;
  for (index_t i = 0; i < n; ++i) {
    T g = grad[i];
    if (decay) g = g + wd * param[i];
    const T sum = state_sum[i] + g * g;
    state_sum[i] = sum;
    param[i] = param[i] + neg_clr * g / (root(sum) + e);
  }
}

// The options are template arguments so that each variant is a branch-free loop the compiler vectorises.
template <class T, bool kCentered, bool kMomentum>
void rmsprop_variant(T* param, T* square_avg, T* momentum_buf, T* grad_avg, const T* grad, index_t n, double lr,
                     double alpha, double eps, double weight_decay, double momentum) {
  const T wd = T(weight_decay), a = T(alpha), one_minus_a = T(1.0 - alpha), e = T(eps), mom = T(momentum),
          neg_lr = T(-lr);
  const bool decay = weight_decay != 0;
  for (index_t i = 0; i < n; ++i) {
    T g = grad[i];
    if (decay) g = g + wd * param[i];
    const T sq = square_avg[i] * a + one_minus_a * g * g;
    square_avg[i] = sq;
    T avg;
    if constexpr (kCentered) {
      const T ga = lerp(grad_avg[i], g, one_minus_a);
      grad_avg[i] = ga;
      avg = root(sq - ga * ga) + e;
    } else {
      avg = root(sq) + e;
    }
    if constexpr (kMomentum) {
      const T buf = momentum_buf[i] * mom + g / avg;
      momentum_buf[i] = buf;
      param[i] = param[i] + neg_lr * buf;
    } else {
      param[i] = param[i] + neg_lr * g / avg;
    }
  }
}

template <class T>
void rmsprop_loop(T* param, T* square_avg, T* momentum_buf, T* grad_avg, const T* grad, index_t n, double lr,
                  double alpha, double eps, double weight_decay, double momentum, bool centered) {
  auto loop = centered ? (momentum > 0 ? rmsprop_variant<T, true, true> : rmsprop_variant<T, true, false>)
                       : (momentum > 0 ? rmsprop_variant<T, false, true> : rmsprop_variant<T, false, false>);
  loop(param, square_avg, momentum_buf, grad_avg, grad, n, lr, alpha, eps, weight_decay, momentum);
}

template <class T, bool kDecay, bool kDecoupled>
void adam_variant(T* param, T* exp_avg, T* exp_avg_sq, const T* grad, index_t n, T wd, T shrink, T one_minus_b1,
                  T b2, T one_minus_b2, T scaled_eps, T neg_scaled_step) {
  for (index_t i = 0; i < n; ++i) {
    T g = grad[i], p = param[i];
    if constexpr (kDecay) {
      if constexpr (kDecoupled) p = p * shrink;
      else g = g + wd * p;
    }
    const T m = lerp(exp_avg[i], g, one_minus_b1);
    const T v = exp_avg_sq[i] * b2 + one_minus_b2 * g * g;
    exp_avg[i] = m;
    exp_avg_sq[i] = v;
    param[i] = p + neg_scaled_step * m / (root(v) + scaled_eps);
  }
}

// PyTorch divides twice per element, m / (sqrt(v) / c + eps) with c = sqrt(1 - beta2^step). Here c moves
// to the numerator, c m / (sqrt(v) + c eps), the ordering Kingma & Ba give as the efficient one: one divide
// fewer, and a square root and two divides share one divider, which bounds this loop (0.8 ns an element
// at every size from L1 to DRAM on AVX-512; 0.55 ns with one divide fewer). The two forms differ by
// rounding alone, an ulp or two of the step, not of the weight.
template <class T>
void adam_loop(T* param, T* exp_avg, T* exp_avg_sq, const T* grad, index_t n, double lr, double beta1, double beta2,
               double eps, double weight_decay, std::int64_t step, bool decoupled) {
  const double bias_correction1 = 1 - __builtin_pow(beta1, static_cast<double>(step));
  const double bc2_sqrt = root(1 - __builtin_pow(beta2, static_cast<double>(step)));
  const T wd = T(weight_decay), shrink = T(1 - lr * weight_decay), one_minus_b1 = T(1 - beta1), b2 = T(beta2),
          one_minus_b2 = T(1 - beta2), scaled_eps = T(eps * bc2_sqrt),
          neg_scaled_step = T(-(lr / bias_correction1) * bc2_sqrt);
  auto loop = weight_decay == 0 ? adam_variant<T, false, false>
              : decoupled       ? adam_variant<T, true, true>
                                : adam_variant<T, true, false>;
  loop(param, exp_avg, exp_avg_sq, grad, n, wd, shrink, one_minus_b1, b2, one_minus_b2, scaled_eps, neg_scaled_step);
}

// Sixteen accumulators in T over blocks of kSquaresBlock values (64 per accumulator, so float's rounding stays
// a few ulps of the block's sum), each block's lanes combined in double and the blocks summed in double.
// Widening every value to double cost four times as much (half the lanes per vector, a conversion each).
// The order depends on n alone, and without fused multiply-adds the result is the same on every ISA.
constexpr index_t kSquaresBlock = 1024;

template <class T>
double sum_squares_loop(const T* x, index_t n) {
  constexpr int kLanes = 16;
  double total = 0.0;
  for (index_t b = 0; b < n; b += kSquaresBlock) {
    const index_t e = n - b < kSquaresBlock ? n : b + kSquaresBlock;
    T acc[kLanes] = {};
    index_t i = b;
    for (; i + kLanes <= e; i += kLanes)
#pragma omp simd
      for (int j = 0; j < kLanes; ++j) acc[j] += x[i + j] * x[i + j];
    for (int j = 0; i < e; ++i, ++j) acc[j] += x[i] * x[i];
    double pairs[kLanes / 2];
    for (int j = 0; j < kLanes / 2; ++j) pairs[j] = double(acc[j]) + double(acc[j + kLanes / 2]);
    total += ((pairs[0] + pairs[1]) + (pairs[2] + pairs[3])) + ((pairs[4] + pairs[5]) + (pairs[6] + pairs[7]));
  }
  return total;
}

template <class T>
OptimKernels<T> optim_table() {
  return {sgd_loop<T>, adagrad_loop<T>, rmsprop_loop<T>, adam_loop<T>, sum_squares_loop<T>, NNTRAIN_COMPILED_ISA};
}

}  // namespace
}  // namespace nntrain
