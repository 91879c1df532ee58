// Layer normalisation over the last D values of each of N rows (D = the product of normalized_shape),
// as a forward/backward pair of the same shape (the structure of llm.c's layernorm_forward/backward):
//
//   layer_norm_forward (out, mean, rstd,      x, weight, bias, N, D, eps)
//   layer_norm_backward(dx, dweight, dbias,   dout, x, weight, mean, rstd, N, D)
//
//   forward:   mean_i = 1/D sum_j x_ij,   var_i = 1/D sum_j (x_ij - mean_i)^2  (biased, as PyTorch)
//              rstd_i = 1 / sqrt(var_i + eps),   norm_ij = (x_ij - mean_i) rstd_i
//              out_ij = weight_j norm_ij + bias_j       (weight / bias null: 1 / 0)
//   backward:  dnorm_ij = weight_j dout_ij
//              dbias_j   += sum_i dout_ij
//              dweight_j += sum_i dout_ij norm_ij
//              dx_ij     += rstd_i (dnorm_ij - mean_j'(dnorm_ij') - norm_ij mean_j'(dnorm_ij' norm_ij'))
//
// Forward writes the mean and rstd of every row, which is all backward needs besides x. Rows are
// independent (threads take whole rows); dweight and dbias are sums over rows, taken by threads that own
// disjoint column blocks and add their rows in order, so results are bit-identical for any thread count.
// Sums run in double.
#pragma once

#include "common.h"

namespace nntrain {

template <class T>
void layer_norm_forward(T* out, T* mean, T* rstd, const T* x, const T* weight, const T* bias, index_t N, index_t D,
                        double eps);

template <class T>
void layer_norm_backward(T* dx, T* dweight, T* dbias, const T* dout, const T* x, const T* weight, const T* mean,
                         const T* rstd, index_t N, index_t D);

}  // namespace nntrain
