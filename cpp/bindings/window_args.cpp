#include "bindings/window_args.h"

namespace nntrain::bind {

namespace {

std::string pair_str(Pair p) { return "(" + std::to_string(p[0]) + ", " + std::to_string(p[1]) + ")"; }

}  // namespace

Window2d window_of(const char* op, Pair kernel, Pair stride, Pair padding, Pair dilation, index_t H, index_t W) {
  const std::string who = op;
  if (kernel[0] < 1 || kernel[1] < 1) fail(who + ": kernel_size must be positive, got " + pair_str(kernel));
  if (stride[0] < 1 || stride[1] < 1) fail(who + ": stride must be positive, got " + pair_str(stride));
  if (padding[0] < 0 || padding[1] < 0) fail(who + ": padding must be non-negative, got " + pair_str(padding));
  if (dilation[0] < 1 || dilation[1] < 1) fail(who + ": dilation must be positive, got " + pair_str(dilation));
  const Window2d win{kernel[0], kernel[1], stride[0], stride[1], padding[0], padding[1], dilation[0], dilation[1]};
  const index_t span_h = dilation[0] * (kernel[0] - 1) + 1, span_w = dilation[1] * (kernel[1] - 1) + 1;
  if (H + 2 * padding[0] < span_h || W + 2 * padding[1] < span_w)
    fail(who + ": input of " + std::to_string(H) + "x" + std::to_string(W) + " with padding " + pair_str(padding) +
         " is smaller than the kernel's span of " + std::to_string(span_h) + "x" + std::to_string(span_w));
  return win;
}

// True when some tap o*S - P + k*D (k < K) of every output position o lies in [0, size).
bool every_window_touches(index_t size, index_t outs, index_t K, index_t S, index_t P, index_t D) {
  for (index_t o = 0; o < outs; ++o) {
    bool touches = false;
    for (index_t k = 0; k < K && !touches; ++k) {
      const index_t at = o * S - P + k * D;
      touches = at >= 0 && at < size;
    }
    if (!touches) return false;
  }
  return true;
}

Window2d pool_window_of(const char* op, Pair kernel, Pair stride, Pair padding, Pair dilation, bool ceil_mode,
                        index_t H, index_t W) {
  Window2d win = window_of(op, kernel, stride, padding, dilation, H, W);
  win.ceil_mode = ceil_mode;
  if (2 * padding[0] > kernel[0] || 2 * padding[1] > kernel[1])
    fail(std::string(op) + ": padding " + pair_str(padding) + " must be at most half the kernel_size " +
         pair_str(kernel));
  if (!every_window_touches(H, win.OH(H), win.KH, win.SH, win.PH, win.DH) ||
      !every_window_touches(W, win.OW(W), win.KW, win.SW, win.PW, win.DW))
    fail(std::string(op) + ": with dilation " + pair_str(dilation) + " some window of the " + std::to_string(H) +
         "x" + std::to_string(W) + " input covers only padding");
  return win;
}

void expect_nchw(const py::array& x, const char* name) { expect_ndim(x, name, 4, "(N, C, H, W)"); }

}  // namespace nntrain::bind
