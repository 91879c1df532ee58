#include "activation.h"

#include <algorithm>
#include <cmath>

#include "fast_math.h"

namespace nntrain {

namespace {

constexpr double kSqrt1_2 = 0.70710678118654752440;       // 1/sqrt(2)
constexpr double kSqrt2_Pi = 0.79788456080286535588;      // sqrt(2/pi)
constexpr double kInvSqrt2Pi = 0.39894228040143267794;    // 1/sqrt(2 pi)
constexpr double kGeluCubic = 0.044715;

// Elementwise loops split into fixed chunks; each element depends only on its own inputs, so the
// split never changes a result. A plain loop over a chunk lets the compiler vectorise the cheap kinds.
template <class F>
void for_each_chunk(index_t n, F&& body) {
  constexpr index_t kChunk = 16384;
  parallel_for(ceil_div(n, kChunk), n, [&](index_t c) { body(c * kChunk, std::min(n, (c + 1) * kChunk)); });
}

// The loops copy f and the pointers into locals first: f's parameters (a slope, an alpha) then live in
// registers. Read through the closure, the compiler must assume the stores may overwrite them, reloads
// them every element and gives up vectorising.
template <class T, class F>
void map_forward(T* out, const T* x, index_t n, F f) {
  for_each_chunk(n, [&](index_t b, index_t e) {
    const F g = f;
    T* const o = out;
    const T* const in = x;
#pragma omp simd
    for (index_t i = b; i < e; ++i) o[i] = g(in[i]);
  });
}

// dinp += df(dout, v) over the one input the derivative needs (x or y). The loop body is branch-free
// and `omp simd` makes the compiler if-convert the selects into vector blends: a data-dependent branch
// here mispredicts on half the elements of random-signed activations and runs 10x slower.
template <class T, class F>
void map_backward(T* dinp, const T* dout, const T* v, index_t n, F df) {
  for_each_chunk(n, [&](index_t b, index_t e) {
    const F g = df;
    T* const d = dinp;
    const T* const go = dout;
    const T* const in = v;
#pragma omp simd
    for (index_t i = b; i < e; ++i) d[i] += g(go[i], in[i]);
  });
}

}  // namespace

template <class T>
void activation_forward(Activation kind, T* out, const T* x, index_t n, double param) {
  const T a = static_cast<T>(param);
  switch (kind) {
    case Activation::Relu:
      // Written so that NaN passes through (NaN < 0 is false), as in PyTorch: the non-finite guard
      // relies on NaN reaching the loss.
      return map_forward(out, x, n, [](T v) { return v < T(0) ? T(0) : v; });
    case Activation::LeakyRelu:
      return map_forward(out, x, n, [a](T v) { return v * (v > T(0) ? T(1) : a); });
    case Activation::Elu:
      return map_forward(out, x, n, [a](T v) { return v > T(0) ? v : a * std::expm1(v); });
    case Activation::Sigmoid:
      return map_forward(out, x, n, [](T v) { return T(1) / (T(1) + fast_exp(-v)); });
    case Activation::Tanh:
      return map_forward(out, x, n, [](T v) { return fast_tanh(v); });
    case Activation::GeluErf:
      return map_forward(out, x, n, [](T v) { return T(0.5) * v * (T(1) + std::erf(v * T(kSqrt1_2))); });
    case Activation::GeluTanh:
      return map_forward(out, x, n, [](T v) {
        return T(0.5) * v * (T(1) + fast_tanh(T(kSqrt2_Pi) * (v + T(kGeluCubic) * v * v * v)));
      });
  }
}

template <class T>
void activation_backward(Activation kind, T* dinp, const T* dout, const T* x, const T* y, index_t n,
                         double param) {
  const T a = static_cast<T>(param);
  switch (kind) {
    case Activation::Relu:
      return map_backward(dinp, dout, x, n, [](T g, T v) { return v > T(0) ? g : T(0); });
    case Activation::LeakyRelu:
      return map_backward(dinp, dout, x, n, [a](T g, T v) { return v > T(0) ? g : g * a; });
    case Activation::Elu:
      return map_backward(dinp, dout, x, n, [a](T g, T v) { return v > T(0) ? g : g * a * std::exp(v); });
    case Activation::Sigmoid:
      return map_backward(dinp, dout, y, n, [](T g, T s) { return g * (T(1) - s) * s; });
    case Activation::Tanh:
      return map_backward(dinp, dout, y, n, [](T g, T t) { return g * (T(1) - t * t); });
    case Activation::GeluErf:
      // d/dx x*Phi(x) = Phi(x) + x*phi(x)
      return map_backward(dinp, dout, x, n, [](T g, T v) {
        const T cdf = T(0.5) * (T(1) + std::erf(v * T(kSqrt1_2)));
        const T pdf = T(kInvSqrt2Pi) * std::exp(T(-0.5) * v * v);
        return g * (cdf + v * pdf);
      });
    case Activation::GeluTanh:
      return map_backward(dinp, dout, x, n, [](T g, T v) {
        const T inner = T(kSqrt2_Pi) * (v + T(kGeluCubic) * v * v * v);
        const T t = std::tanh(inner);
        const T dinner = T(kSqrt2_Pi) * (T(1) + T(3 * kGeluCubic) * v * v);
        return g * (T(0.5) * (T(1) + t) + T(0.5) * v * (T(1) - t * t) * dinner);
      });
  }
}

template void activation_forward<float>(Activation, float*, const float*, index_t, double);
template void activation_forward<double>(Activation, double*, const double*, index_t, double);
template void activation_backward<float>(Activation, float*, const float*, const float*, const float*, index_t,
                                         double);
template void activation_backward<double>(Activation, double*, const double*, const double*, const double*,
                                          index_t, double);

}  // namespace nntrain
