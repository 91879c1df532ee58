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
