"""Max and average pooling over NCHW images and NCL sequences, and adaptive average pooling.

stride defaults to kernel_size, as in PyTorch. ceil_mode rounds the output size up (a last, partial window
is added as long as it starts inside the input or its left padding, PyTorch's rule). The 1-D ops are the
2-D ones over images of unit height: (N, C, L) -> (N, C, 1, L), a view.
"""

import numpy as np

from .. import _core
from ..autograd.function import Function
from ._args import pair
from ._grads import grad_buffers


def _window(kernel_size, stride, padding):
    kernel = pair(kernel_size, "kernel_size")
    return kernel, kernel if stride is None else pair(stride, "stride"), pair(padding, "padding")


class MaxPool2d(Function):
    """(maximum of each window, its flat position ih*W + iw); backward sends each gradient to that position."""

    contiguous_inputs = True

    @staticmethod
    def forward(ctx, x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
        window = _window(kernel_size, stride, padding)
        shape = (pair(dilation, "dilation"), bool(ceil_mode))
        out, indices = _core.max_pool2d_forward(x, *window, *shape)
        ctx.indices, ctx.input_shape, ctx.window, ctx.shape = indices, x.shape, window, shape
        return out, indices

    @staticmethod
    def backward(ctx, dy, _indices_grad=None):
        return max_pool2d_backward(dy, ctx.indices, ctx.input_shape, *ctx.window, *ctx.shape)


class AvgPool2d(Function):
    contiguous_inputs = True

    @staticmethod
    def forward(ctx, x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
        window = _window(kernel_size, stride, padding)
        ctx.input_shape, ctx.window = x.shape, window
        ctx.modes = (bool(ceil_mode), bool(count_include_pad))
        return _core.avg_pool2d_forward(x, *window, count_include_pad=ctx.modes[1], ceil_mode=ctx.modes[0])

    @staticmethod
    def backward(ctx, dy):
        return avg_pool2d_backward(dy, ctx.input_shape, *ctx.window, *ctx.modes)


def _expect_ndim(op, x, ndim, layout):
    if np.ndim(x) != ndim:
        raise ValueError(f"{op}: expected input {layout}, got shape {tuple(np.shape(x))}")


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Maximum of each window; with return_indices also the flat position ih*W + iw of each maximum."""
    _expect_ndim("max_pool2d", input, 4, "(N, C, H, W)")
    out, indices = MaxPool2d.apply(input, kernel_size=kernel_size, stride=stride, padding=padding, dilation=dilation,
                                   ceil_mode=ceil_mode)
    return (out, indices) if return_indices else out


def max_pool2d_backward(dout, indices, input_shape, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                        *, dx=None):
    """Gradient w.r.t. the input (input_shape): each dout goes to the position its maximum came from."""
    dout = np.asarray(dout)
    (dx,), accumulate = grad_buffers([dx], [tuple(input_shape)], dout.dtype)
    if dx is not None:
        _core.max_pool2d_backward(dout, indices, dx, *_window(kernel_size, stride, padding), pair(dilation, "dilation"),
                                  bool(ceil_mode), accumulate)
    return dx


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """Mean of each window; padding counts in the divisor when count_include_pad."""
    _expect_ndim("avg_pool2d", input, 4, "(N, C, H, W)")
    return AvgPool2d.apply(input, kernel_size=kernel_size, stride=stride, padding=padding, ceil_mode=ceil_mode,
                           count_include_pad=count_include_pad)


def avg_pool2d_backward(dout, input_shape, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                        *, dx=None):
    """Gradient w.r.t. the input (input_shape): each dout shared equally over its window."""
    dout = np.asarray(dout)
    (dx,), accumulate = grad_buffers([dx], [tuple(input_shape)], dout.dtype)
    if dx is not None:
        _core.avg_pool2d_backward(dout, dx, *_window(kernel_size, stride, padding),
                                  count_include_pad=bool(count_include_pad), ceil_mode=bool(ceil_mode),
                                  accumulate=accumulate)
    return dx


# ---- 1-D: 2-D over a unit height -----------------------------------------------------------------------------

def _along_length(value, name, default=None):
    """A 1-D size (int or 1-tuple) as the (1, value) of a unit-height 2-D window."""
    if value is None:
        return default
    if isinstance(value, (tuple, list)):
        if len(value) != 1:
            raise ValueError(f"{name}: expected an int or a 1-tuple, got {value!r}")
        value = value[0]
    return (1, int(value))


def _unit_height(op, x):
    _expect_ndim(op, x, 3, "(N, C, L)")
    n, c, length = x.shape
    return x.reshape(n, c, 1, length)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Maximum of each window along L of (N, C, L); with return_indices also each maximum's position in L."""
    kernel = _along_length(kernel_size, "kernel_size")
    out, indices = MaxPool2d.apply(_unit_height("max_pool1d", input), kernel_size=kernel,
                                   stride=_along_length(stride, "stride", kernel),
                                   padding=(0, _along_length(padding, "padding")[1]),
                                   dilation=_along_length(dilation, "dilation"), ceil_mode=ceil_mode)
    n, c, _, length = out.shape
    out, indices = out.reshape(n, c, length), indices.reshape(n, c, length)
    return (out, indices) if return_indices else out


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """Mean of each window along L of (N, C, L)."""
    kernel = _along_length(kernel_size, "kernel_size")
    out = AvgPool2d.apply(_unit_height("avg_pool1d", input), kernel_size=kernel,
                          stride=_along_length(stride, "stride", kernel),
                          padding=(0, _along_length(padding, "padding")[1]), ceil_mode=ceil_mode,
                          count_include_pad=count_include_pad)
    n, c, _, length = out.shape
    return out.reshape(n, c, length)


# ---- adaptive average pooling ------------------------------------------------------------------------------------

def _averaging_matrix(size, out):
    """(out, size): row i averages the inputs [floor(i size / out), ceil((i + 1) size / out)), PyTorch's windows."""
    a = np.zeros((out, size))
    for i in range(out):
        start, end = (i * size) // out, -(-((i + 1) * size) // out)
        a[i, start:end] = 1.0 / (end - start)
    return a


class AdaptiveAvgPool2d(Function):
    """Each output averages a window that depends on the position; the windows are separable, so the whole
    op is out = A_h x A_w^T with averaging matrices A_h (OH, H) and A_w (OW, W), and its backward
    dx = A_h^T g A_w."""

    @staticmethod
    def forward(ctx, x, output_size):
        (oh, ow), (h, w) = output_size, x.shape[-2:]
        ctx.a_h, ctx.a_w = _averaging_matrix(h, oh).astype(x.dtype), _averaging_matrix(w, ow).astype(x.dtype)
        return np.ascontiguousarray(ctx.a_h @ x @ ctx.a_w.T)

    @staticmethod
    def backward(ctx, g):
        return np.ascontiguousarray(ctx.a_h.T @ g @ ctx.a_w)


def adaptive_avg_pool2d(input, output_size):
    """Average pooling of (N, C, H, W) (or (C, H, W)) to an output of output_size (an int, or a pair whose
    None entries keep the input's size), whatever the input size."""
    if np.ndim(input) not in (3, 4):
        raise ValueError(f"adaptive_avg_pool2d: expected input (N, C, H, W) or (C, H, W), got shape "
                         f"{tuple(np.shape(input))}")
    h, w = input.shape[-2:]
    size = (output_size, output_size) if output_size is None or isinstance(output_size, int) else tuple(output_size)
    if len(size) != 2:
        raise ValueError(f"adaptive_avg_pool2d: output_size must be an int or a pair, got {output_size!r}")
    oh, ow = (h if size[0] is None else int(size[0])), (w if size[1] is None else int(size[1]))
    if oh < 1 or ow < 1:
        raise ValueError(f"adaptive_avg_pool2d: output_size must be positive, got {output_size!r}")
    if np.ndim(input) == 4 and h % oh == 0 and w % ow == 0:
        # Windows that tile the input exactly are plain average pooling: the kernel, one pass.
        kernel = (h // oh, w // ow)
        return AvgPool2d.apply(input, kernel_size=kernel, stride=kernel)
    return AdaptiveAvgPool2d.apply(input, output_size=(oh, ow))
