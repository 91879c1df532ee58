#include "conv2d.h"

#include <algorithm>
#include <cstring>

#include "gemm.h"
#include "im2col.h"
#include "reduce.h"
#include "scratch.h"

namespace nntrain {

namespace {

// Scratch budget of one chunk (column matrix + output block), in elements: 8 MiB of float.
constexpr index_t kChunkElements = index_t(1) << 21;

struct ConvPlan {
  index_t P;        // output positions per image, OH*OW
  index_t K;        // rows of the column matrix, C*KH*KW
  index_t images;   // images per chunk
  bool direct;      // 1x1, stride 1, no padding: an image (C, H*W) is its own column matrix
};

ConvPlan plan_of(const Conv2dShape& s) {
  ConvPlan p;
  p.P = s.OH() * s.OW();
  p.K = s.C * s.win.KH * s.win.KW;
  const index_t per_image = std::max<index_t>(1, (p.K + s.OC) * p.P);
  p.images = std::clamp<index_t>(kChunkElements / per_image, 1, std::max<index_t>(s.N, 1));
  p.direct = s.win.KH == 1 && s.win.KW == 1 && s.win.SH == 1 && s.win.SW == 1 && s.win.PH == 0 &&
             s.win.PW == 0;
  return p;
}

// Runs body(image, channel) over the images [n0, n0 + nb) of a chunk and every channel in parallel.
template <class F>
void for_each_plane(index_t nb, index_t C, index_t work, F&& body) {
  const index_t items = nb * C;
#pragma omp parallel for schedule(static) num_threads(num_threads()) if(parallel_worth(work) && items > 1)
  for (index_t k = 0; k < items; ++k) body(k / C, k % C);
}

// The column matrix of images [n0, n0 + nb): (K, nb*P), image i in columns [i*P, (i+1)*P).
template <class T>
const T* columns_of(const T* x, const Conv2dShape& s, const ConvPlan& p, index_t n0, index_t nb) {
  if (p.direct && nb == 1) return x + n0 * s.C * s.H * s.W;
  T* col = thread_scratch<T>(kScratchIm2col, p.K * nb * p.P);
  const index_t ld = nb * p.P, KK = s.win.KH * s.win.KW;
  for_each_plane(nb, s.C, p.K * ld, [&](index_t i, index_t c) {
    im2col(col + c * KK * ld + i * p.P, ld, x + ((n0 + i) * s.C + c) * s.H * s.W, 1, s.H, s.W, s.win);
  });
  return col;
}

// Moves rows of OC blocks between the chunk layout (OC, nb*P) and NCHW (nb, OC, P).
template <class T>
void chunk_to_nchw(T* nchw, const T* chunk, index_t nb, index_t OC, index_t P) {
  for_each_plane(nb, OC, nb * OC * P, [&](index_t i, index_t oc) {
    std::memcpy(nchw + (i * OC + oc) * P, chunk + oc * nb * P + i * P, sizeof(T) * P);
  });
}
template <class T>
void nchw_to_chunk(T* chunk, const T* nchw, index_t nb, index_t OC, index_t P) {
  for_each_plane(nb, OC, nb * OC * P, [&](index_t i, index_t oc) {
    std::memcpy(chunk + oc * nb * P + i * P, nchw + (i * OC + oc) * P, sizeof(T) * P);
  });
}

}  // namespace

template <class T>
void conv2d_forward(T* out, const T* x, const T* weight, const T* bias, const Conv2dShape& s) {
  const ConvPlan p = plan_of(s);
  if (p.P == 0) return;
  for (index_t n0 = 0; n0 < s.N; n0 += p.images) {
    const index_t nb = std::min(p.images, s.N - n0);
    const T* col = columns_of(x, s, p, n0, nb);
    // out_chunk (OC, nb*P) = weight (OC, K) . col (K, nb*P) + bias per row
    T* dst = nb == 1 ? out + n0 * s.OC * p.P : thread_scratch<T>(kScratchConvTmp, s.OC * nb * p.P);
    gemm<T>(dst, nb * p.P, weight, p.K, col, nb * p.P, s.OC, nb * p.P, p.K, false, false, T(1), T(0), bias,
            bias ? BiasAlong::Rows : BiasAlong::None);
    if (nb > 1) chunk_to_nchw(out + n0 * s.OC * p.P, dst, nb, s.OC, p.P);
  }
}

template <class T>
void conv2d_backward(T* dx, T* dweight, T* dbias, const T* dout, const T* x, const T* weight,
                     const Conv2dShape& s) {
  const ConvPlan p = plan_of(s);
  if (dbias) sum_per_channel(dbias, dout, s.N, s.OC, p.P);
  if ((!dx && !dweight) || p.P == 0) return;
  const index_t KK = s.win.KH * s.win.KW;
  for (index_t n0 = 0; n0 < s.N; n0 += p.images) {
    const index_t nb = std::min(p.images, s.N - n0), ld = nb * p.P;
    const T* d = dout + n0 * s.OC * p.P;
    if (nb > 1) {
      T* chunk = thread_scratch<T>(kScratchConvTmp, s.OC * ld);
      nchw_to_chunk(chunk, d, nb, s.OC, p.P);
      d = chunk;
    }
    if (dweight) {
      // dweight (OC, K) += dout_chunk (OC, nb*P) . col^T (nb*P, K)
      const T* col = columns_of(x, s, p, n0, nb);
      gemm<T>(dweight, p.K, d, ld, col, ld, s.OC, p.K, ld, false, true, T(1), T(1));
    }
    if (dx) {
      // dcol (K, nb*P) = weight^T (K, OC) . dout_chunk (OC, nb*P), then folded back onto the images.
      T* dcol = thread_scratch<T>(kScratchIm2col, p.K * ld);
      gemm<T>(dcol, ld, weight, p.K, d, ld, p.K, ld, s.OC, true, false, T(1), T(0));
      for_each_plane(nb, s.C, p.K * ld, [&](index_t i, index_t c) {
        col2im(dx + ((n0 + i) * s.C + c) * s.H * s.W, dcol + c * KK * ld + i * p.P, ld, 1, s.H, s.W, s.win);
      });
    }
  }
}

template <class T>
void conv2d_forward_naive(T* out, const T* x, const T* weight, const T* bias, const Conv2dShape& s) {
  const index_t OH = s.OH(), OW = s.OW();
  const Window2d& w = s.win;
  for (index_t n = 0; n < s.N; ++n)
    for (index_t oc = 0; oc < s.OC; ++oc)
      for (index_t oh = 0; oh < OH; ++oh)
        for (index_t ow = 0; ow < OW; ++ow) {
          T acc = bias ? bias[oc] : T(0);
          for (index_t c = 0; c < s.C; ++c)
            for (index_t kh = 0; kh < w.KH; ++kh)
              for (index_t kw = 0; kw < w.KW; ++kw) {
                const index_t ih = oh * w.SH - w.PH + kh * w.DH, iw = ow * w.SW - w.PW + kw * w.DW;
                if (ih < 0 || ih >= s.H || iw < 0 || iw >= s.W) continue;
                acc += weight[((oc * s.C + c) * w.KH + kh) * w.KW + kw] * x[((n * s.C + c) * s.H + ih) * s.W + iw];
              }
          out[((n * s.OC + oc) * OH + oh) * OW + ow] = acc;
        }
}

#define NNTRAIN_INSTANTIATE(T)                                                                      \
  template void conv2d_forward<T>(T*, const T*, const T*, const T*, const Conv2dShape&);             \
  template void conv2d_backward<T>(T*, T*, T*, const T*, const T*, const T*, const Conv2dShape&);    \
  template void conv2d_forward_naive<T>(T*, const T*, const T*, const T*, const Conv2dShape&);
NNTRAIN_INSTANTIATE(float)
NNTRAIN_INSTANTIATE(double)
#undef NNTRAIN_INSTANTIATE

}  // namespace nntrain
