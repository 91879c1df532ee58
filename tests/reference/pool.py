"""NumPy oracles for max and average pooling (explicit windows, padding as PyTorch treats it)."""

import numpy as np


def _out(n, k, s, p):
    return (n + 2 * p - k) // s + 1


def max_pool2d(x, kernel, stride, padding):
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    n, c, h, w = x.shape
    oh, ow = _out(h, kh, sh, ph), _out(w, kw, sw, pw)
    out = np.empty((n, c, oh, ow), x.dtype)
    idx = np.empty((n, c, oh, ow), np.int64)
    for i in range(oh):
        for j in range(ow):
            h0, w0 = i * sh - ph, j * sw - pw
            r0, r1, c0, c1 = max(h0, 0), min(h0 + kh, h), max(w0, 0), min(w0 + kw, w)
            win = x[:, :, r0:r1, c0:c1].reshape(n, c, (r1 - r0) * (c1 - c0))
            k = win.argmax(axis=2)
            out[:, :, i, j] = np.take_along_axis(win, k[..., None], 2)[..., 0]
            idx[:, :, i, j] = (r0 + k // (c1 - c0)) * w + c0 + k % (c1 - c0)
    return out, idx


def avg_pool2d(x, kernel, stride, padding, count_include_pad=True):
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    n, c, h, w = x.shape
    oh, ow = _out(h, kh, sh, ph), _out(w, kw, sw, pw)
    out = np.empty((n, c, oh, ow), np.float64)
    for i in range(oh):
        for j in range(ow):
            h0, w0 = i * sh - ph, j * sw - pw
            h1, w1 = min(h0 + kh, h + ph), min(w0 + kw, w + pw)
            r0, r1, c0, c1 = max(h0, 0), min(h1, h), max(w0, 0), min(w1, w)
            count = (h1 - h0) * (w1 - w0) if count_include_pad else (r1 - r0) * (c1 - c0)
            out[:, :, i, j] = x[:, :, r0:r1, c0:c1].astype(np.float64).sum(axis=(2, 3)) / count
    return out.astype(x.dtype)


def pooled_size(n, k, s, p, d=1, ceil_mode=False):
    """PyTorch's pooling output size, including ceil_mode's rule (the last window starts inside the input
    or the left padding)."""
    span = n + 2 * p - d * (k - 1) - 1
    out = (-(-span // s) if ceil_mode else span // s) + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1
    return out


def max_pool2d_general(x, kernel, stride, padding, dilation=(1, 1), ceil_mode=False):
    """Max over each window's taps inside the image (padding never wins), any dilation and ceil_mode."""
    n, c, h, w = x.shape
    oh = pooled_size(h, kernel[0], stride[0], padding[0], dilation[0], ceil_mode)
    ow = pooled_size(w, kernel[1], stride[1], padding[1], dilation[1], ceil_mode)
    out = np.empty((n, c, oh, ow), x.dtype)
    for i in range(oh):
        rows = [i * stride[0] - padding[0] + a * dilation[0] for a in range(kernel[0])]
        rows = [r for r in rows if 0 <= r < h]
        for j in range(ow):
            cols = [j * stride[1] - padding[1] + b * dilation[1] for b in range(kernel[1])]
            cols = [q for q in cols if 0 <= q < w]
            out[:, :, i, j] = x[:, :, rows][:, :, :, cols].max(axis=(2, 3))
    return out


def avg_pool2d_general(x, kernel, stride, padding, ceil_mode=False, count_include_pad=True):
    """PyTorch's average: the divisor counts padding up to the padded border (not beyond it) when
    count_include_pad, only the image's positions otherwise."""
    n, c, h, w = x.shape
    oh = pooled_size(h, kernel[0], stride[0], padding[0], 1, ceil_mode)
    ow = pooled_size(w, kernel[1], stride[1], padding[1], 1, ceil_mode)
    out = np.empty((n, c, oh, ow))
    for i in range(oh):
        h0 = i * stride[0] - padding[0]
        h1 = min(h0 + kernel[0], h + padding[0])
        for j in range(ow):
            w0 = j * stride[1] - padding[1]
            w1 = min(w0 + kernel[1], w + padding[1])
            r0, r1, c0, c1 = max(h0, 0), min(h1, h), max(w0, 0), min(w1, w)
            count = (h1 - h0) * (w1 - w0) if count_include_pad else (r1 - r0) * (c1 - c0)
            out[:, :, i, j] = x[:, :, r0:r1, c0:c1].astype(np.float64).sum(axis=(2, 3)) / count
    return out


def adaptive_avg_pool2d(x, out_h, out_w):
    """Window i spans [floor(i H / OH), ceil((i + 1) H / OH)), as PyTorch."""
    h, w = x.shape[-2:]
    out = np.empty(x.shape[:-2] + (out_h, out_w))
    for i in range(out_h):
        r0, r1 = (i * h) // out_h, -(-((i + 1) * h) // out_h)
        for j in range(out_w):
            c0, c1 = (j * w) // out_w, -(-((j + 1) * w) // out_w)
            out[..., i, j] = x[..., r0:r1, c0:c1].astype(np.float64).mean(axis=(-2, -1))
    return out
