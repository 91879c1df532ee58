"""NumPy oracles for im2col and conv2d, written straight from the definition (explicit windows)."""

import numpy as np


def out_size(n, k, s, p, d):
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


def im2col(img, kernel, stride, padding, dilation):
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    c, h, w = img.shape
    oh, ow = out_size(h, kh, sh, ph, dh), out_size(w, kw, sw, pw, dw)
    padded = np.zeros((c, h + 2 * ph, w + 2 * pw), img.dtype)
    padded[:, ph:ph + h, pw:pw + w] = img
    col = np.empty((c, kh, kw, oh, ow), img.dtype)
    for i in range(kh):
        for j in range(kw):
            col[:, i, j] = padded[:, i * dh: i * dh + sh * (oh - 1) + 1: sh, j * dw: j * dw + sw * (ow - 1) + 1: sw]
    return col.reshape(c * kh * kw, oh * ow)


def conv2d(x, weight, bias, stride, padding, dilation):
    n = x.shape[0]
    oc, c, kh, kw = weight.shape
    out = []
    for i in range(n):
        col = im2col(x[i].astype(np.float64), (kh, kw), stride, padding, dilation)
        out.append(weight.reshape(oc, -1).astype(np.float64) @ col)
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    oh, ow = out_size(x.shape[2], kh, sh, ph, dh), out_size(x.shape[3], kw, sw, pw, dw)
    y = np.array(out).reshape(n, oc, oh, ow) if n else np.zeros((0, oc, oh, ow))
    if bias is not None:
        y = y + bias.reshape(1, -1, 1, 1)
    return y.astype(x.dtype)


def col2im(col, input_shape, kernel, stride, padding, dilation):
    """The adjoint of im2col: im2col of an image of position numbers tells where each entry came from."""
    c, h, w = input_shape
    positions = im2col(np.arange(1, c * h * w + 1, dtype=np.float64).reshape(c, h, w), kernel, stride, padding,
                       dilation).astype(np.int64)
    img = np.zeros(c * h * w + 1)
    np.add.at(img, positions.ravel(), col.astype(np.float64).ravel())  # slot 0 collects the padding
    return img[1:].reshape(c, h, w)


def conv2d_backward(dout, x, weight, stride, padding, dilation):
    oc, c, kh, kw = weight.shape
    dx = np.zeros(x.shape)
    dw = np.zeros((oc, c * kh * kw))
    for i in range(x.shape[0]):
        g = dout[i].reshape(oc, -1).astype(np.float64)
        col = im2col(x[i].astype(np.float64), (kh, kw), stride, padding, dilation)
        dw += g @ col.T
        dx[i] = col2im(weight.reshape(oc, -1).astype(np.float64).T @ g, x.shape[1:], (kh, kw), stride, padding,
                       dilation)
    return dx, dw.reshape(weight.shape), dout.astype(np.float64).sum(axis=(0, 2, 3))


def conv2d_grouped(x, weight, bias, stride, padding, dilation, groups):
    """A grouped convolution as `groups` separate convolutions over channel slices, concatenated."""
    oc = weight.shape[0]
    cg, og = x.shape[1] // groups, oc // groups
    parts = [conv2d(x[:, g * cg:(g + 1) * cg].astype(np.float64), weight[g * og:(g + 1) * og].astype(np.float64),
                    None, stride, padding, dilation) for g in range(groups)]
    y = np.concatenate(parts, axis=1)
    return y if bias is None else y + bias.reshape(1, -1, 1, 1)


def conv2d_same(x, weight, bias, dilation=(1, 1), groups=1):
    """padding='same' by PyTorch's rule: d (k - 1) zeros per axis, the odd one at the end."""
    kh, kw = weight.shape[2:]
    th, tw = dilation[0] * (kh - 1), dilation[1] * (kw - 1)
    padded = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (th // 2, th - th // 2), (tw // 2, tw - tw // 2)))
    return conv2d_grouped(padded, weight, bias, (1, 1), (0, 0), dilation, groups)
