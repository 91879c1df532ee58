// im2col / col2im: the column matrix that turns a convolution into one GEMM.
//
// For an image (C, H, W) and a window of OH x OW positions, the column matrix has C*KH*KW rows, one per
// (channel, kernel row, kernel column), and OH*OW columns, one per output position:
//   col[(c*KH + kh)*KW + kw][oh*OW + ow] = img[c][oh*SH - PH + kh*DH][ow*SW - PW + kw*DW]  (0 outside)
// Rows are `ldcol` apart, so several images can sit side by side in one wider matrix.
//
//   im2col(col, ldcol, img, C, H, W, win)   writes every entry of the column matrix
//   col2im(img, col, ldcol, C, H, W, win)   img += the adjoint: each entry added back where it came from
#pragma once

#include "common.h"
#include "window2d.h"

namespace nntrain {

template <class T>
void im2col(T* col, index_t ldcol, const T* img, index_t C, index_t H, index_t W, const Window2d& win);

template <class T>
void col2im(T* img, const T* col, index_t ldcol, index_t C, index_t H, index_t W, const Window2d& win);

}  // namespace nntrain
