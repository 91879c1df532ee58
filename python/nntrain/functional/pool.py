"""2-D max and average pooling over NCHW arrays. stride defaults to kernel_size, as in PyTorch."""

import numpy as np

from .. import _core
from ..autograd.function import Function
from ._args import pair
from ._grads import single_grad


def _window(kernel_size, stride, padding):
    kernel = pair(kernel_size, "kernel_size")
    return kernel, kernel if stride is None else pair(stride, "stride"), pair(padding, "padding")


class MaxPool2d(Function):
    """(maximum of each window, its flat position ih*W + iw); backward sends each gradient to that position."""

    contiguous_inputs = True

    @staticmethod
    def forward(ctx, x, kernel_size, stride=None, padding=0):
        window = _window(kernel_size, stride, padding)
        out, indices = _core.max_pool2d_forward(x, *window)
        ctx.indices, ctx.input_shape, ctx.window = indices, x.shape, window
        return out, indices

    @staticmethod
    def backward(ctx, dy, _indices_grad=None):
        return max_pool2d_backward(dy, ctx.indices, ctx.input_shape, *ctx.window)


class AvgPool2d(Function):
    contiguous_inputs = True

    @staticmethod
    def forward(ctx, x, kernel_size, stride=None, padding=0, count_include_pad=True):
        window = _window(kernel_size, stride, padding)
        ctx.input_shape, ctx.window, ctx.count_include_pad = x.shape, window, bool(count_include_pad)
        return _core.avg_pool2d_forward(x, *window, bool(count_include_pad))

    @staticmethod
    def backward(ctx, dy):
        return avg_pool2d_backward(dy, ctx.input_shape, *ctx.window, ctx.count_include_pad)


def max_pool2d(x, kernel_size, stride=None, padding=0, return_indices=False):
    """Maximum of each window; with return_indices also the flat position ih*W + iw of each maximum."""
    out, indices = MaxPool2d.apply(x, kernel_size=kernel_size, stride=stride, padding=padding)
    return (out, indices) if return_indices else out


def max_pool2d_backward(dout, indices, input_shape, kernel_size, stride=None, padding=0, *, dx=None):
    """Gradient w.r.t. the input (input_shape): each dout goes to the position its maximum came from."""
    dout = np.asarray(dout)
    return single_grad(dx, tuple(input_shape), dout.dtype, lambda d: _core.max_pool2d_backward(
        dout, indices, d, *_window(kernel_size, stride, padding)))


def avg_pool2d(x, kernel_size, stride=None, padding=0, count_include_pad=True):
    """Mean of each window; padding counts in the divisor when count_include_pad."""
    return AvgPool2d.apply(x, kernel_size=kernel_size, stride=stride, padding=padding,
                           count_include_pad=count_include_pad)


def avg_pool2d_backward(dout, input_shape, kernel_size, stride=None, padding=0, count_include_pad=True, *, dx=None):
    """Gradient w.r.t. the input (input_shape): each dout shared equally over its window."""
    dout = np.asarray(dout)
    return single_grad(dx, tuple(input_shape), dout.dtype, lambda d: _core.avg_pool2d_backward(
        dout, d, *_window(kernel_size, stride, padding), bool(count_include_pad)))
