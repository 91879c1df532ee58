// The sliding window of a 2-D convolution or pooling: kernel size, stride, padding and dilation per
// axis. Output size follows PyTorch: floor((in + 2 pad - dilation (k - 1) - 1) / stride) + 1.
#pragma once

#include "common.h"

namespace nntrain {

struct Window2d {
  index_t KH, KW;  // kernel
  index_t SH, SW;  // stride
  index_t PH, PW;  // padding (zeros for convolution, ignored positions for pooling)
  index_t DH, DW;  // dilation

  static index_t out_size(index_t in, index_t k, index_t s, index_t p, index_t d) {
    return (in + 2 * p - d * (k - 1) - 1) / s + 1;
  }
  index_t OH(index_t H) const { return out_size(H, KH, SH, PH, DH); }
  index_t OW(index_t W) const { return out_size(W, KW, SW, PW, DW); }
};

}  // namespace nntrain
