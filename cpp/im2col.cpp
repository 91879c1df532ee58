#include "im2col.h"

#include <algorithm>
#include <cstring>

namespace nntrain {

namespace {

// The output columns ow whose input column ow*S - P + offset lies in [0, W): [first, last).
inline void valid_range(index_t OW, index_t S, index_t P, index_t offset, index_t W, index_t* first, index_t* last) {
  // iw = ow*S + base >= 0  <=>  ow >= ceil(-base / S);   iw < W  <=>  ow <= floor((W - 1 - base) / S)
  const index_t base = offset - P;
  index_t lo = base >= 0 ? 0 : (-base + S - 1) / S;
  index_t hi = (W - 1 - base) < 0 ? 0 : (W - 1 - base) / S + 1;
  lo = std::min(lo, OW);
  hi = std::min(std::max(hi, lo), OW);
  *first = lo;
  *last = hi;
}

}  // namespace

template <class T>
void im2col(T* col, index_t ldcol, const T* img, index_t C, index_t H, index_t W, const Window2d& win) {
  const index_t OH = win.OH(H), OW = win.OW(W);
  for (index_t c = 0; c < C; ++c) {
    const T* plane = img + c * H * W;
    for (index_t kh = 0; kh < win.KH; ++kh) {
      for (index_t kw = 0; kw < win.KW; ++kw) {
        T* row = col + ((c * win.KH + kh) * win.KW + kw) * ldcol;
        index_t ow0, ow1;
        valid_range(OW, win.SW, win.PW, kw * win.DW, W, &ow0, &ow1);
        for (index_t oh = 0; oh < OH; ++oh) {
          T* dst = row + oh * OW;
          const index_t ih = oh * win.SH - win.PH + kh * win.DH;
          if (ih < 0 || ih >= H) {
            std::fill(dst, dst + OW, T(0));
            continue;
          }
          const index_t base = ih * W - win.PW + kw * win.DW;  // plane[base + ow*SW] feeds column ow
          std::fill(dst, dst + ow0, T(0));
          if (win.SW == 1) {
            if (ow1 > ow0) std::memcpy(dst + ow0, plane + base + ow0, sizeof(T) * (ow1 - ow0));
          } else {
            for (index_t ow = ow0; ow < ow1; ++ow) dst[ow] = plane[base + ow * win.SW];
          }
          std::fill(dst + ow1, dst + OW, T(0));
        }
      }
    }
  }
}

template <class T>
void col2im(T* img, const T* col, index_t ldcol, index_t C, index_t H, index_t W, const Window2d& win) {
  const index_t OH = win.OH(H), OW = win.OW(W);
  for (index_t c = 0; c < C; ++c) {
    T* plane = img + c * H * W;
    for (index_t kh = 0; kh < win.KH; ++kh) {
      for (index_t kw = 0; kw < win.KW; ++kw) {
        const T* row = col + ((c * win.KH + kh) * win.KW + kw) * ldcol;
        index_t ow0, ow1;
        valid_range(OW, win.SW, win.PW, kw * win.DW, W, &ow0, &ow1);
        for (index_t oh = 0; oh < OH; ++oh) {
          const index_t ih = oh * win.SH - win.PH + kh * win.DH;
          if (ih < 0 || ih >= H) continue;
          const T* src = row + oh * OW;
          const index_t base = ih * W - win.PW + kw * win.DW;
          for (index_t ow = ow0; ow < ow1; ++ow) plane[base + ow * win.SW] += src[ow];
        }
      }
    }
  }
}

template void im2col<float>(float*, index_t, const float*, index_t, index_t, index_t, const Window2d&);
template void im2col<double>(double*, index_t, const double*, index_t, index_t, index_t, const Window2d&);
template void col2im<float>(float*, const float*, index_t, index_t, index_t, index_t, const Window2d&);
template void col2im<double>(double*, const double*, index_t, index_t, index_t, index_t, const Window2d&);

}  // namespace nntrain
