"""Matrix products and the fully connected layer (weight layout (out_features, in_features))."""

import numpy as np

from .. import _core
from ..autograd.function import Function
from ._grads import grad_buffers


def matmul(a, b, trans_a=False, trans_b=False):
    """``op(a) @ op(b)`` where ``op`` transposes when its flag is set; no transposed copy is made of arrays.
    Tensors go through :func:`nntrain.matmul` (recorded, batched shapes allowed)."""
    from .._tensor import Tensor

    if isinstance(a, Tensor) or isinstance(b, Tensor):
        from ..ops import matmul as tensor_matmul

        return tensor_matmul(a.T if trans_a else a, b.T if trans_b else b)
    return _core.matmul(a, b, bool(trans_a), bool(trans_b))


class Linear(Function):
    """y = x W^T + b; backward: dx = dy W, dW = dy^T x, db = sum of dy over the batch."""

    contiguous_inputs = True

    @staticmethod
    def forward(ctx, x, weight, bias=None):
        ctx.save_for_backward(x, weight)
        ctx.has_bias = bias is not None
        return _core.linear_forward(x, weight, bias)

    @staticmethod
    def backward(ctx, dy):
        x, weight = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        return linear_backward(dy, x, weight, True if ctx.has_bias else None, dx=None if need_x else False,
                               dweight=None if need_w else False, dbias=None if need_b else False)


def linear(x, weight, bias=None):
    """``x @ weight.T + bias``: x (*, in_features), weight (out_features, in_features), bias (out_features).
    The kernel takes (N, in_features); other leading dims are flattened into N and restored (views, no copy)."""
    if x.ndim == 2 or x.ndim == 0:
        return Linear.apply(x, weight, bias)
    lead = x.shape[:-1]
    out = Linear.apply(x.reshape(-1, x.shape[-1]), weight, bias)
    return out.reshape(*lead, out.shape[-1])


def linear_backward(dout, x, weight, bias=None, *, dx=None, dweight=None, dbias=None):
    """Gradients of :func:`linear`: ``(dx, dweight, dbias)``; ``dbias`` is None when ``bias`` is None."""
    x = np.asarray(x)
    weight = np.asarray(weight)
    (dx, dweight, dbias), accumulate = grad_buffers(
        (dx, dweight, dbias if bias is not None else False), (x.shape, weight.shape, (weight.shape[0],)), x.dtype)
    _core.linear_backward(dout, x, weight, dx, dweight, dbias, accumulate)
    return dx, dweight, dbias
