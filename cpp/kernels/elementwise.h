// The elementwise kernels (activations, softmax rows, batch-norm channel runs, 2x2 max-pool planes, dropout)
// as a table per instruction set, like the GEMM microkernels: the op files (activation.cpp, softmax.cpp,
// loss.cpp, batch_norm.cpp, pool2d.cpp, dropout.cpp) keep the loops over rows, channels, planes and thread
// chunks and call these on contiguous runs or whole planes. Each ISA file compiles the same plain-C loops
// (kernels/*_loops.h, with fast_math.h's vectorisable exp/tanh/erf) with its own flags, so the compiler
// turns them into 4-, 8- or 16-lane code; the float and double tables come from the same templates.
//
// Every function works on one contiguous run and its result depends on the run's values and length
// only, so the callers' fixed chunking keeps results identical for any thread count.
#pragma once

#include <cstdint>

#include "activation.h"
#include "common.h"

namespace nntrain {

template <class T>
struct ElementwiseKernels {
  // out[i] = f(x[i]);  dinp[i] (+)= df(dout[i], v[i]), v = x or y as activation.h says
  void (*activation_forward)(Activation kind, T* out, const T* x, index_t n, T param);
  void (*activation_backward)(Activation kind, T* dinp, const T* dout, const T* v, index_t n, T param,
                              bool accumulate);

  // One row of n values. row_exp writes e = exp((x - max) * inv_t) and returns max and sum(e) (in double).
  void (*softmax_row_exp)(T* e, const T* x, index_t n, T inv_t, T* max_out, double* sum_out);
  void (*scale)(T* x, index_t n, T s);  // x *= s
  void (*softmax_forward_row)(T* out, const T* x, index_t n, T inv_t);
  void (*softmax_backward_row)(T* dinp, const T* dout, const T* y, index_t n, T inv_t, bool accumulate);
  void (*log_softmax_forward_row)(T* out, const T* x, index_t n, T inv_t);
  void (*log_softmax_backward_row)(T* dinp, const T* dout, const T* y, index_t n, T inv_t, bool accumulate);

  // Batch norm on one run of a channel's values. `gate` (may be null) is the fused ReLU's output: where it
  // is not > 0 the gradient is taken as 0.
  double (*sum)(const T* x, index_t n);
  double (*sum_squared_deviation)(const T* x, index_t n, double mean);
  void (*affine)(T* out, const T* x, index_t n, T scale, T shift, bool relu);  // out = x*scale + shift [max 0]
  void (*norm_backward_sums)(const T* dout, const T* x, const T* gate, index_t n, double mean, double* sum_dy,
                             double* sum_dy_dx);  // += sum dy, += sum dy (x - mean)
  // dinp += dy * k + x * a + b (x null: dinp += dy * k); = instead of += when not accumulate
  void (*norm_backward_dx)(T* dinp, const T* dout, const T* x, const T* gate, index_t n, T k, T a, T b,
                           bool accumulate);

  // 2x2 max-pool (stride 2) of one plane x of width W into OH x OW: out and the flat position in the plane of
  // each maximum; at is scratch of OH OW values. Ties and NaN as max_pool2d's rule. corners[p] = 2 (p / OW)
  // W + 2 (p % OW), window p's top-left value (pool_window_corners in pool2d.h), here and below.
  void (*max_pool_2x2)(T* out, std::int64_t* indices, T* at, const T* x, const std::int32_t* corners, index_t W,
                       index_t OH, index_t OW);

  // Batch norm + ReLU + 2x2 max-pool (stride 2) on one image plane x (H, W); the pooled plane has OH x OW =
  // (H / 2) x (W / 2) values, and `window` says which of a window's four values (0..3: row * 2 + column)
  // each took (only a byte's low two bits are read, so any byte stays inside its window).
  // forward: out = the window's max of max(x * scale + shift, 0), ties and NaN as max_pool2d's 2x2 kernel;
  // y and at are scratch of H W and OH OW values.
  void (*norm_relu_pool_forward)(T* out, std::uint8_t* window, T* y, T* at, const T* x, const std::int32_t* corners,
                                 index_t W, index_t OH, index_t OW, T scale, T shift);
  // backward, the sums' operands (OH OW each): g = dout where out > 0, else 0, and x_at = the x each window
  // took; norm_backward_sums(g, x_at, ...) then gives the channel's sums.
  void (*norm_relu_pool_pick)(T* g, T* x_at, const T* dout, const T* out, const std::uint8_t* window, const T* x,
                              const std::int32_t* corners, index_t W, index_t OH, index_t OW);
  // backward, the gradient reaching the normalisation: dy (H, W) = g at the position each window took, zero
  // elsewhere; norm_backward_dx(dinp, dy, x, ...) then gives dx, the unfused ops' values.
  void (*norm_relu_pool_spread)(T* dy, const T* g, const std::uint8_t* window, const std::int32_t* corners, index_t H,
                                index_t W, index_t OH, index_t OW);

  // Dropout on a run whose first element has the counter index `first` (counter_rng.h): out (+)= keep ? in
  // * scale : 0, keep when the element's 24-bit draw is >= threshold. Forward and backward alike.
  void (*dropout)(T* out, const T* in, index_t n, std::uint64_t seed, std::uint64_t first, std::uint32_t threshold,
                  T scale, bool accumulate);
};

ElementwiseKernels<float> elementwise_kernels_float_ref();
ElementwiseKernels<double> elementwise_kernels_double_ref();
ElementwiseKernels<float> elementwise_kernels_float_avx2();
ElementwiseKernels<double> elementwise_kernels_double_avx2();
ElementwiseKernels<float> elementwise_kernels_float_avx512();
ElementwiseKernels<double> elementwise_kernels_double_avx512();

}  // namespace nntrain
