#include "conv2d.h"

#include <algorithm>
#include <cstring>

#include "gemm.h"
#include "im2col.h"
#include "reduce.h"
#include "scratch.h"

namespace nntrain {

namespace {

// Columns (images x output positions) per group GEMM: enough for the microkernel to run near its peak,
// few enough that a group's column matrix (K x columns) stays in a core's L2 for the usual small layers.
constexpr index_t kGroupColumns = 1024;

struct ConvPlan {
  index_t P;        // output positions per image, OH*OW
  index_t K;        // rows of the column matrix, C*KH*KW
  index_t images;   // images per group: depends on the shapes only, never on the thread count
  index_t groups;
  bool direct;      // 1x1, stride 1, no padding: an image (C, H*W) is its own column matrix
};

ConvPlan plan_of(const Conv2dShape& s) {
  ConvPlan p;
  p.P = s.OH() * s.OW();
  p.K = s.C * s.win.KH * s.win.KW;
  p.images = std::clamp<index_t>(kGroupColumns / std::max<index_t>(p.P, 1), 1, std::max<index_t>(s.N, 1));
  p.groups = ceil_div(s.N, p.images);
  p.direct = s.win.KH == 1 && s.win.KW == 1 && s.win.SH == 1 && s.win.SW == 1 && s.win.PH == 0 &&
             s.win.PW == 0;
  return p;
}

// Runs body(group) over the groups: in parallel, one group per task and each GEMM serial inside, when
// there are several; otherwise in the calling thread so the GEMM itself can use the threads.
template <class F>
void for_each_group(const ConvPlan& p, index_t work, F&& body) {
  if (p.groups == 1) return body(index_t(0));
  parallel_for(p.groups, work, body);
}

// The column matrix of images [n0, n0 + nb): (K, nb*P), image i in columns [i*P, (i+1)*P).
template <class T>
const T* columns_of(T* col, const T* x, const Conv2dShape& s, const ConvPlan& p, index_t n0, index_t nb) {
  if (p.direct && nb == 1) return x + n0 * s.C * s.H * s.W;
  const index_t ld = nb * p.P;
  for (index_t i = 0; i < nb; ++i) im2col(col + i * p.P, ld, x + (n0 + i) * s.C * s.H * s.W, s.C, s.H, s.W, s.win);
  return col;
}

// Rows of OC blocks between the group layout (OC, nb*P) and NCHW (nb, OC, P).
template <class T>
void group_to_nchw(T* nchw, const T* group, index_t nb, index_t OC, index_t P) {
  for (index_t i = 0; i < nb; ++i)
    for (index_t oc = 0; oc < OC; ++oc) std::memcpy(nchw + (i * OC + oc) * P, group + oc * nb * P + i * P, sizeof(T) * P);
}
template <class T>
void nchw_to_group(T* group, const T* nchw, index_t nb, index_t OC, index_t P) {
  for (index_t i = 0; i < nb; ++i)
    for (index_t oc = 0; oc < OC; ++oc) std::memcpy(group + oc * nb * P + i * P, nchw + (i * OC + oc) * P, sizeof(T) * P);
}

}  // namespace

template <class T>
void conv2d_forward(T* out, const T* x, const T* weight, const T* bias, const Conv2dShape& s) {
  const ConvPlan p = plan_of(s);
  if (p.P == 0 || s.N == 0) return;
  for_each_group(p, s.N * s.OC * p.P * p.K, [&](index_t g) {
    const index_t n0 = g * p.images, nb = std::min(p.images, s.N - n0), ld = nb * p.P;
    const T* col = columns_of(thread_scratch<T>(kScratchIm2col, p.K * ld), x, s, p, n0, nb);
    // out_group (OC, nb*P) = weight (OC, K) . col (K, nb*P) + bias per row
    T* dst = nb == 1 ? out + n0 * s.OC * p.P : thread_scratch<T>(kScratchConvTmp, s.OC * ld);
    gemm<T>(dst, ld, weight, p.K, col, ld, s.OC, ld, p.K, false, false, T(1), T(0), bias,
            bias ? BiasAlong::Rows : BiasAlong::None);
    if (nb > 1) group_to_nchw(out + n0 * s.OC * p.P, dst, nb, s.OC, p.P);
  });
}

template <class T>
void conv2d_backward(T* dx, T* dweight, T* dbias, const T* dout, const T* x, const T* weight,
                     const Conv2dShape& s) {
  const ConvPlan p = plan_of(s);
  if (dbias) sum_per_channel(dbias, dout, s.N, s.OC, p.P);
  if ((!dx && !dweight) || p.P == 0 || s.N == 0) return;
  // Each group's weight gradient goes to a slot of its own, summed in group order afterwards: the
  // same sums in the same order for any thread count.
  const index_t wsize = s.OC * p.K;
  // (OC, K) or its transpose (K, OC): whichever GEMM computes faster (conv1's K = 9 leaves most of a
  // register tile empty one way round).
  const bool transposed_partial = gemm_prefers_transposed<T>(s.OC, p.K, std::min(p.images, s.N) * p.P);
  T* partial = dweight ? thread_scratch<T>(kScratchConvPartial, static_cast<std::size_t>(p.groups * wsize)) : nullptr;
  for_each_group(p, 3 * s.N * s.OC * p.P * p.K, [&](index_t g) {
    const index_t n0 = g * p.images, nb = std::min(p.images, s.N - n0), ld = nb * p.P;
    const T* d = dout + n0 * s.OC * p.P;
    if (nb > 1) {
      T* group = thread_scratch<T>(kScratchConvTmp, s.OC * ld);
      nchw_to_group(group, d, nb, s.OC, p.P);
      d = group;
    }
    T* col = thread_scratch<T>(kScratchIm2col, p.K * ld);
    if (dweight) {
      // partial (OC, K) = dout_group (OC, nb*P) . col^T (nb*P, K), or its transpose (see transposed_partial)
      const T* c = columns_of(col, x, s, p, n0, nb);
      T* part = partial + g * wsize;
      if (transposed_partial) gemm<T>(part, s.OC, c, ld, d, ld, p.K, s.OC, ld, false, true, T(1), T(0));
      else gemm<T>(part, p.K, d, ld, c, ld, s.OC, p.K, ld, false, true, T(1), T(0));
    }
    if (dx) {
      // dcol (K, nb*P) = weight^T (K, OC) . dout_group (OC, nb*P), then folded back onto the images.
      gemm<T>(col, ld, weight, p.K, d, ld, p.K, ld, s.OC, true, false, T(1), T(0));
      for (index_t i = 0; i < nb; ++i)
        col2im(dx + (n0 + i) * s.C * s.H * s.W, col + i * p.P, ld, s.C, s.H, s.W, s.win);
    }
  });
  if (dweight) {
    parallel_for(wsize, p.groups * wsize, [&](index_t k) {
      // element k = (oc, j) of dweight; in a transposed partial it sits at (j, oc)
      const index_t at = transposed_partial ? (k % p.K) * s.OC + k / p.K : k;
      T sum = dweight[k];
      for (index_t g = 0; g < p.groups; ++g) sum += partial[g * wsize + at];
      dweight[k] = sum;
    });
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
