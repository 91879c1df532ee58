"""2-D convolution (NCHW, weight (out_channels, in_channels, kh, kw)) and the im2col it is built on."""

import numpy as np

from .. import _core
from ..autograd.function import Function
from ._args import pair
from ._grads import grad_buffer


class Conv2d(Function):
    contiguous_inputs = True

    @staticmethod
    def forward(ctx, x, weight, bias=None, stride=1, padding=0, dilation=1):
        geometry = (pair(stride, "stride"), pair(padding, "padding"), pair(dilation, "dilation"))
        out = _core.conv2d_forward(x, weight, bias, *geometry)
        ctx.save_for_backward(x, weight)
        ctx.has_bias, ctx.geometry = bias is not None, geometry
        return out

    @staticmethod
    def backward(ctx, dy):
        x, weight = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        stride, padding, dilation = ctx.geometry
        return conv2d_backward(dy, x, weight, True if ctx.has_bias else None, stride, padding, dilation,
                               dx=None if need_x else False, dweight=None if need_w else False,
                               dbias=None if need_b else False)


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1):
    """Cross-correlation of x (N, C, H, W) with weight (OC, C, KH, KW), plus bias (OC): (N, OC, OH, OW)."""
    return Conv2d.apply(x, weight, bias, stride=stride, padding=padding, dilation=dilation)


def conv2d_backward(dout, x, weight, bias=None, stride=1, padding=0, dilation=1, *, dx=None, dweight=None,
                    dbias=None):
    """Gradients of :func:`conv2d`: ``(dx, dweight, dbias)``; ``dbias`` is None when ``bias`` is None."""
    x = np.asarray(x)
    weight = np.asarray(weight)
    dx = grad_buffer(dx, x.shape, x.dtype)
    dweight = grad_buffer(dweight, weight.shape, x.dtype)
    dbias = grad_buffer(dbias, (weight.shape[0],), x.dtype) if bias is not None else None
    _core.conv2d_backward(dout, x, weight, dx, dweight, dbias, pair(stride, "stride"), pair(padding, "padding"),
                          pair(dilation, "dilation"))
    return dx, dweight, dbias


def im2col(img, kernel_size, stride=1, padding=0, dilation=1):
    """The column matrix (C*KH*KW, OH*OW) of one image (C, H, W): conv2d is weight.reshape(OC, -1) @ it."""
    return _core.im2col(img, pair(kernel_size, "kernel_size"), pair(stride, "stride"), pair(padding, "padding"),
                        pair(dilation, "dilation"))


def col2im(col, input_shape, kernel_size, stride=1, padding=0, dilation=1, *, out=None):
    """The adjoint of :func:`im2col`: every column entry added back onto the image position it came from."""
    col = np.asarray(col)
    out = grad_buffer(out, tuple(input_shape), col.dtype)
    _core.col2im(col, out, pair(kernel_size, "kernel_size"), pair(stride, "stride"), pair(padding, "padding"),
                 pair(dilation, "dilation"))
    return out
