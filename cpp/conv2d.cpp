#include "conv2d.h"

#include <algorithm>
#include <cstring>

#include "conv2d_winograd.h"
#include "dispatch.h"
#include "gemm.h"
#include "im2col.h"
#include "reduce.h"
#include "scratch.h"

namespace nntrain {

namespace {

// Columns (images x output positions) per block GEMM: enough for the microkernel to run near its peak,
// few enough that a group's column matrix (K x columns) stays in a core's L2 for the usual small layers.
constexpr index_t kGroupColumns = 1024;

struct ConvPlan {
  index_t P;        // output positions per image, OH*OW
  index_t Cg, OCg;  // input and output channels of one channel group, C/groups and OC/groups
  index_t K;        // rows of the column matrix, Cg*KH*KW
  index_t images;   // images per group: depends on the shapes only, never on the thread count
  index_t blocks;   // blocks of images, each one GEMM per channel group
  bool direct;      // 1x1, stride 1, no padding: an image (C, H*W) is its own column matrix
};

ConvPlan plan_of(const Conv2dShape& s) {
  ConvPlan p;
  p.P = s.OH() * s.OW();
  p.Cg = s.C / s.groups;
  p.OCg = s.OC / s.groups;
  p.K = p.Cg * s.win.KH * s.win.KW;
  p.images = std::clamp<index_t>(kGroupColumns / std::max<index_t>(p.P, 1), 1, std::max<index_t>(s.N, 1));
  p.blocks = ceil_div(s.N, p.images);
  p.direct = s.win.KH == 1 && s.win.KW == 1 && s.win.SH == 1 && s.win.SW == 1 && s.win.PH == 0 &&
             s.win.PW == 0;
  return p;
}

// Runs body(block) over the image blocks: in parallel, one block per task and each GEMM serial inside,
// when there are several; otherwise in the calling thread so the GEMM itself can use the threads.
template <class F>
void for_each_block(const ConvPlan& p, index_t work, F&& body) {
  if (p.blocks == 1) return body(index_t(0));
  parallel_for(p.blocks, work, body);
}

// Channel group g of image n: Cg planes of H x W, contiguous.
template <class T>
T* channel_group(T* x, const Conv2dShape& s, const ConvPlan& p, index_t n, index_t g) {
  return x + (n * s.C + g * p.Cg) * s.H * s.W;
}

// The column matrix of channel group g of images [n0, n0 + nb): (K, nb*P), image i in columns [i*P, (i+1)*P).
template <class T>
const T* columns_of(T* col, const T* x, const Conv2dShape& s, const ConvPlan& p, index_t n0, index_t nb, index_t g) {
  if (p.direct && nb == 1) return channel_group(x, s, p, n0, g);
  const index_t ld = nb * p.P;
  for (index_t i = 0; i < nb; ++i) im2col(col + i * p.P, ld, channel_group(x, s, p, n0 + i, g), p.Cg, s.H, s.W, s.win);
  return col;
}

// Rows of OC between the block layout (OC, nb*P) and NCHW (nb, OC, P).
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

// Winograd when it applies and the layer has at least 8 input channels; im2col otherwise. Measured with
// `python -m bench --only conv` (batch 64, fwd / dx / dW ms, im2col against Winograd, best of interleaved
// runs, 1 thread, AVX-512, a shared 2-core machine):
//   cnn conv2 32->64 at 14x14   14.0 / 11.6 / 14.8  against  6.1 / 6.5 / 7.9   Winograd ~2x
//   64->64 at 7x7               13.7 / 10.6 / 14.3  against  6.1 / 6.1 / 6.4
//   8->16 at 28x28               6.3 /  4.1 / 13.2  against  4.3 / 4.7 / 5.2   about even but dW
//   cnn conv1 1->32 at 28x28     1.4 /  1.8 /  3.4  against  7.5 / 4.8 / 4.9   im2col 2-5x
// With few input channels the products shrink to nothing (K = C) while the output side (16 products per
// 2x2 tile to write, transform and transpose) stays, so im2col wins; with 8 or more Winograd's 2.25x
// fewer multiplications win. A sweep of C (same bench, /tmp script) put the crossovers at OC = 32, 28x28
// between C = 8 and 16 for the forward and dx and between 2 and 3 for dW; at OC = 16, 14x14 Winograd won
// all three from C = 4. C >= 8 sits between: it gives up a little at C = 8 on large images and at C = 4-7
// on small ones.
// float64 always takes im2col: the Winograd kernels are vectorised for float32 only, and in float64 they
// ran 6-12x slower than im2col (1 thread: 0.97 against 0.077 ms at 4x16x8x8 -> 16; 83 against 13.7 ms at
// the cnn's conv2 shape). float64 is also the precision of gradient checks, where im2col's direct sums
// are the plainer reference.
ConvAlgorithm conv2d_algorithm(const Conv2dShape& s, index_t element_bytes, ConvAlgorithm requested) {
  if (requested == ConvAlgorithm::Winograd)
    NN_CHECK(winograd_applies(s),
             "algorithm: winograd computes 3x3 kernels with stride 1, dilation 1 and groups 1 only");
  if (requested != ConvAlgorithm::Auto) return requested;
  const bool single = element_bytes == static_cast<index_t>(sizeof(float));
  return single && winograd_applies(s) && s.C >= 8 ? ConvAlgorithm::Winograd : ConvAlgorithm::Im2col;
}

index_t conv2d_transformed_size(const Conv2dShape& s, index_t element_bytes, ConvAlgorithm algorithm) {
  return conv2d_algorithm(s, element_bytes, algorithm) == ConvAlgorithm::Winograd
             ? conv2d_winograd_transformed_size(s) : 0;
}

template <class T>
void conv2d_forward(T* out, T* transformed, const T* x, const T* weight, const T* bias, const Conv2dShape& s,
                    ConvAlgorithm algorithm) {
  if (conv2d_algorithm(s, sizeof(T), algorithm) == ConvAlgorithm::Winograd)
    return conv2d_winograd_forward(out, transformed, x, weight, bias, s);
  const ConvPlan p = plan_of(s);
  if (p.P == 0 || s.N == 0) return;
  for_each_block(p, s.N * s.OC * p.P * p.K, [&](index_t b) {
    const index_t n0 = b * p.images, nb = std::min(p.images, s.N - n0), ld = nb * p.P;
    T* dst = nb == 1 ? out + n0 * s.OC * p.P : thread_scratch<T>(kScratchConvTmp, s.OC * ld);
    T* scratch = thread_scratch<T>(kScratchIm2col, p.K * ld);
    for (index_t g = 0; g < s.groups; ++g) {
      // out rows of group g (OCg, nb*P) = weight rows of g (OCg, K) . col of g (K, nb*P) + bias per row
      const T* col = columns_of(scratch, x, s, p, n0, nb, g);
      gemm<T>(dst + g * p.OCg * ld, ld, weight + g * p.OCg * p.K, p.K, col, ld, p.OCg, ld, p.K, false, false, T(1),
              T(0), bias ? bias + g * p.OCg : nullptr, bias ? BiasAlong::Rows : BiasAlong::None);
    }
    if (nb > 1) group_to_nchw(out + n0 * s.OC * p.P, dst, nb, s.OC, p.P);
  });
}

template <class T>
void conv2d_backward(T* dx, T* dweight, T* dbias, const T* dout, const T* x, const T* transformed, const T* weight,
                     const Conv2dShape& s, ConvAlgorithm algorithm, bool accumulate) {
  const ConvPlan p = plan_of(s);
  if (dbias) sum_per_channel(dbias, dout, s.N, s.OC, p.P, accumulate);
  if (conv2d_algorithm(s, sizeof(T), algorithm) == ConvAlgorithm::Winograd)
    return conv2d_winograd_backward(dx, dweight, dout, x, transformed, weight, s, accumulate);
  if (!accumulate) {  // nothing to add to: what the loops below would add into stays zero
    if (dx && (p.P == 0 || s.N == 0)) std::fill(dx, dx + s.N * s.C * s.H * s.W, T(0));
    if (dweight && (p.P == 0 || s.N == 0)) std::fill(dweight, dweight + s.OC * p.K, T(0));
  }
  if ((!dx && !dweight) || p.P == 0 || s.N == 0) return;
  // Each block's weight gradient goes to a slot of its own, summed in block order afterwards: the
  // same sums in the same order for any thread count.
  const index_t wsize = s.OC * p.K;
  // (OC, K) or its transpose (K, OC): whichever GEMM computes faster (conv1's K = 9 leaves most of a
  // register tile empty one way round).
  const bool transposed_partial = gemm_prefers_transposed<T>(p.OCg, p.K, std::min(p.images, s.N) * p.P);
  T* partial = dweight ? thread_scratch<T>(kScratchConvPartial, static_cast<std::size_t>(p.blocks * wsize)) : nullptr;
  for_each_block(p, 3 * s.N * s.OC * p.P * p.K, [&](index_t b) {
    const index_t n0 = b * p.images, nb = std::min(p.images, s.N - n0), ld = nb * p.P;
    const T* d = dout + n0 * s.OC * p.P;
    if (nb > 1) {
      T* block = thread_scratch<T>(kScratchConvTmp, s.OC * ld);
      nchw_to_group(block, d, nb, s.OC, p.P);
      d = block;
    }
    T* col = thread_scratch<T>(kScratchIm2col, p.K * ld);
    for (index_t g = 0; g < s.groups; ++g) {
      const T* dg = d + g * p.OCg * ld;  // dout rows of channel group g (OCg, nb*P)
      if (dweight) {
        // partial rows of g (OCg, K) = dout_g (OCg, nb*P) . col_g^T (nb*P, K); transposed, the (K, OCg)
        // columns of g in a (K, OC) partial (see transposed_partial)
        const T* c = columns_of(col, x, s, p, n0, nb, g);
        T* part = partial + b * wsize;
        if (transposed_partial) gemm<T>(part + g * p.OCg, s.OC, c, ld, dg, ld, p.K, p.OCg, ld, false, true, T(1), T(0));
        else gemm<T>(part + g * p.OCg * p.K, p.K, dg, ld, c, ld, p.OCg, p.K, ld, false, true, T(1), T(0));
      }
      if (dx) {
        // dcol (K, nb*P) = weight_g^T (K, OCg) . dout_g (OCg, nb*P), then folded back onto the images.
        gemm<T>(col, ld, weight + g * p.OCg * p.K, p.K, dg, ld, p.K, ld, p.OCg, true, false, T(1), T(0));
        for (index_t i = 0; i < nb; ++i) {
          T* image = channel_group(dx, s, p, n0 + i, g);
          // col2im adds (windows overlap): written, the block's own images start at zero, cleared here in
          // its thread rather than by a serial pass over all of dx first
          if (!accumulate) std::fill(image, image + p.Cg * s.H * s.W, T(0));
          col2im(image, col + i * p.P, ld, p.Cg, s.H, s.W, s.win);
        }
      }
    }
  });
  if (dweight) {
    parallel_for(wsize, p.blocks * wsize, [&](index_t k) {
      // element k = (oc, j) of dweight (OC, K); in a transposed partial (K, OC) it sits at (j, oc)
      const index_t at = transposed_partial ? (k % p.K) * s.OC + k / p.K : k;
      T sum = accumulate ? dweight[k] : T(0);
      for (index_t b = 0; b < p.blocks; ++b) sum += partial[b * wsize + at];
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
          const index_t Cg = s.C / s.groups, c0 = oc / (s.OC / s.groups) * Cg;
          for (index_t c = 0; c < Cg; ++c)
            for (index_t kh = 0; kh < w.KH; ++kh)
              for (index_t kw = 0; kw < w.KW; ++kw) {
                const index_t ih = oh * w.SH - w.PH + kh * w.DH, iw = ow * w.SW - w.PW + kw * w.DW;
                if (ih < 0 || ih >= s.H || iw < 0 || iw >= s.W) continue;
                acc += weight[((oc * Cg + c) * w.KH + kh) * w.KW + kw] * x[((n * s.C + c0 + c) * s.H + ih) * s.W + iw];
              }
          out[((n * s.OC + oc) * OH + oh) * OW + ow] = acc;
        }
}

#define NNTRAIN_INSTANTIATE(T)                                                                      \
  template void conv2d_forward<T>(T*, T*, const T*, const T*, const T*, const Conv2dShape&, ConvAlgorithm);        \
  template void conv2d_backward<T>(T*, T*, T*, const T*, const T*, const T*, const T*, const Conv2dShape&,        \
                                   ConvAlgorithm, bool);                                                               \
  template void conv2d_forward_naive<T>(T*, const T*, const T*, const T*, const Conv2dShape&);
NNTRAIN_INSTANTIATE(float)
NNTRAIN_INSTANTIATE(double)
#undef NNTRAIN_INSTANTIATE

}  // namespace nntrain
