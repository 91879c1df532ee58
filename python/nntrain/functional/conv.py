"""Convolution (cross-correlation, as PyTorch) over NCHW images and NCL sequences, with weight
(out_channels, in_channels / groups, kh, kw), and the im2col it is built on.

conv1d is conv2d over images of unit height (the tinygrad way): (N, C, L) -> (N, C, 1, L), weight
(OC, C/g, K) -> (OC, C/g, 1, K); both reshapes are views. padding='same' keeps the size (stride 1); when the
kernel's span d (k - 1) is odd the extra zero goes on the right/bottom, as PyTorch pads.

Two algorithms compute conv2d (cpp/conv2d.h): im2col + GEMM for any shape, and Winograd F(2x2, 3x3) for
ungrouped 3x3 stride-1 layers. ``algorithm="auto"`` (the default) takes the one the bench found faster for
the shape (``conv2d_algorithm`` in cpp/conv2d.cpp, ``_core.conv2d_algorithm`` names it); ``"im2col"`` or
``"winograd"`` force one. Both agree to float rounding.
"""

import numpy as np

from .. import _core
from ..autograd.function import Function
from ._args import pair
from ._grads import grad_buffer, grad_buffers
from .pad import pad as _pad


class Conv2d(Function):
    contiguous_inputs = True

    @staticmethod
    def forward(ctx, x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, algorithm="auto"):
        geometry = (pair(stride, "stride"), pair(padding, "padding"), pair(dilation, "dilation"))
        out = _core.conv2d_forward(x, weight, bias, *geometry, groups=int(groups), algorithm=algorithm)
        # Winograd's transformed input is not kept for the weight gradient: it is 4x the input, and on the
        # bench's layers reading it back costs more than recomputing it from x (python -m bench --only conv).
        ctx.save_for_backward(x, weight)
        ctx.has_bias, ctx.geometry, ctx.groups, ctx.algorithm = bias is not None, geometry, int(groups), algorithm
        return out

    @staticmethod
    def backward(ctx, dy):
        x, weight = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        stride, padding, dilation = ctx.geometry
        return conv2d_backward(dy, x, weight, True if ctx.has_bias else None, stride, padding, dilation, ctx.groups,
                               dx=None if need_x else False, dweight=None if need_w else False,
                               dbias=None if need_b else False, algorithm=ctx.algorithm)


def _same_padding(op, kernel, stride, dilation):
    """PyTorch's 'same': per axis a total of dilation (k - 1) zeros, the odd one after. Returns the symmetric
    part and the extra (after) amounts."""
    if stride != (1,) * len(stride):
        raise ValueError(f"{op}: padding='same' is not supported for strided convolutions (stride={stride})")
    total = [d * (k - 1) for k, d in zip(kernel, dilation)]
    return tuple(t // 2 for t in total), tuple(t - t // 2 * 2 for t in total)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, *, algorithm="auto"):
    """Cross-correlation of input (N, C, H, W) with weight (OC, C / groups, KH, KW), plus bias (OC):
    (N, OC, OH, OW). padding is an int, a pair, 'valid' (none) or 'same' (output size = input size).
    algorithm: "auto", "im2col" or "winograd" (3x3 kernels, stride 1, dilation 1 and groups 1 only)."""
    if np.ndim(input) != 4:
        raise ValueError(f"conv2d: expected input (N, C, H, W), got shape {tuple(np.shape(input))}")
    if np.ndim(weight) != 4:
        raise ValueError(f"conv2d: expected weight (out_channels, in_channels / groups, kh, kw), got shape "
                         f"{tuple(np.shape(weight))}")
    if isinstance(padding, str):
        if padding == "valid":
            padding = 0
        elif padding == "same":
            padding, extra = _same_padding("conv2d", tuple(np.shape(weight)[2:]), pair(stride, "stride"),
                                           pair(dilation, "dilation"))
            if any(extra):
                input = _pad(input, (0, extra[1], 0, extra[0]))
        else:
            raise ValueError(f"conv2d: padding must be an int, a pair, 'valid' or 'same', got {padding!r}")
    return Conv2d.apply(input, weight, bias, stride=stride, padding=padding, dilation=dilation, groups=groups,
                        algorithm=algorithm)


def _single(value, name, op):
    """1-D geometry: an int or a 1-tuple -> the int."""
    if isinstance(value, (tuple, list)):
        if len(value) != 1:
            raise ValueError(f"{op}: {name} must be an int or a 1-tuple, got {value!r}")
        value = value[0]
    return int(value)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """Cross-correlation of input (N, C, L) with weight (OC, C / groups, K), plus bias (OC): (N, OC, OL)."""
    if np.ndim(input) != 3:
        raise ValueError(f"conv1d: expected input (N, C, L), got shape {tuple(np.shape(input))}")
    if np.ndim(weight) != 3:
        raise ValueError(f"conv1d: expected weight (out_channels, in_channels / groups, k), got shape "
                         f"{tuple(np.shape(weight))}")
    n, c, length = input.shape
    oc, cg, k = weight.shape
    if not isinstance(padding, str):
        padding = (0, _single(padding, "padding", "conv1d"))
    out = conv2d(input.reshape(n, c, 1, length), weight.reshape(oc, cg, 1, k), bias,
                 stride=(1, _single(stride, "stride", "conv1d")), padding=padding,
                 dilation=(1, _single(dilation, "dilation", "conv1d")), groups=groups)
    return out.reshape(n, oc, out.shape[3])


def conv2d_backward(dout, x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, *, dx=None, dweight=None,
                    dbias=None, algorithm="auto", transformed=None):
    """Gradients of :func:`conv2d` (numeric padding): ``(dx, dweight, dbias)``; ``dbias`` is None when ``bias``
    is None.

    transformed: what ``_core.conv2d_forward(..., return_transformed=True)`` kept for this x and weight (it
    spares recomputing Winograd's transformed input), with the same algorithm."""
    x = np.asarray(x)
    weight = np.asarray(weight)
    if bias is None:
        dbias = False
    (dx, dweight, dbias), accumulate = grad_buffers([dx, dweight, dbias], [x.shape, weight.shape, weight.shape[:1]],
                                                    x.dtype)
    _core.conv2d_backward(dout, x, weight, dx, dweight, dbias, pair(stride, "stride"), pair(padding, "padding"),
                          pair(dilation, "dilation"), int(groups), transformed=transformed, algorithm=algorithm,
                          accumulate=accumulate)
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
