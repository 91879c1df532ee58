// The sliding window of a 2-D convolution or pooling: kernel size, stride, padding and dilation per
// axis. Output size follows PyTorch: floor((in + 2 pad - dilation (k - 1) - 1) / stride) + 1, or for
// pooling in ceil_mode the ceiling, less one if that last window would start beyond the input and its
// left padding (so every window starts inside the image or the left padding, PyTorch's rule).
#pragma once

#include "common.h"

namespace nntrain {

struct Window2d {
  index_t KH, KW;  // kernel
  index_t SH, SW;  // stride
  index_t PH, PW;  // padding (zeros for convolution, ignored positions for pooling)
  index_t DH, DW;  // dilation
  bool ceil_mode = false;

  static index_t out_size(index_t in, index_t k, index_t s, index_t p, index_t d, bool ceil_mode) {
    const index_t span = in + 2 * p - d * (k - 1) - 1;  // >= 0: the caller checked the kernel fits
    index_t out = (ceil_mode ? span + s - 1 : span) / s + 1;
    if (ceil_mode && (out - 1) * s >= in + p) --out;
    return out;
  }
  index_t OH(index_t H) const { return out_size(H, KH, SH, PH, DH, ceil_mode); }
  index_t OW(index_t W) const { return out_size(W, KW, SW, PW, DW, ceil_mode); }
};

}  // namespace nntrain
