// The (kernel, stride, padding, dilation) arguments of convolution and pooling, checked against an
// input of H x W: every size positive, padding non-negative, and at least one output position.
#pragma once

#include <pybind11/stl.h>

#include <array>

#include "bindings/checks.h"
#include "window2d.h"

namespace nntrain::bind {

using Pair = std::array<index_t, 2>;

// `op` names the caller in messages ("conv2d", "max_pool2d").
Window2d window_of(const char* op, Pair kernel, Pair stride, Pair padding, Pair dilation, index_t H, index_t W);

// Pooling also needs padding <= kernel / 2 and, with dilation or ceil_mode, every window to cover at
// least one position of the image (a window of padding alone has no maximum to route a gradient to).
Window2d pool_window_of(const char* op, Pair kernel, Pair stride, Pair padding, Pair dilation, bool ceil_mode,
                        index_t H, index_t W);

// x must be a 4-D (N, C, H, W) array.
void expect_nchw(const py::array& x, const char* name);

}  // namespace nntrain::bind
