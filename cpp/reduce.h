// Sums that gradients of biases need. Both accumulate (+=) into their output, like every backward, or with
// accumulate=false write it (=): a fresh gradient then needs no zero-fill first.
#pragma once

#include "common.h"

namespace nntrain {

// x (rows, cols) -> out (cols): out[j] += sum_i x[i][j]     (Linear's dbias)
template <class T>
void sum_rows(T* out, const T* x, index_t rows, index_t cols, bool accumulate = true);

// x (N, C, S) -> out (C): out[c] += sum_{n,s} x[n][c][s]     (Conv2d's dbias, BatchNorm's sums; S = H*W)
template <class T>
void sum_per_channel(T* out, const T* x, index_t N, index_t C, index_t S, bool accumulate = true);

}  // namespace nntrain
