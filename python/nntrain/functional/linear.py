"""Matrix products and the fully connected layer (weight layout (out_features, in_features))."""

import numpy as np

from .. import _core
from ._grads import grad_buffer


def matmul(a, b, trans_a=False, trans_b=False):
    """``op(a) @ op(b)`` where ``op`` transposes when its flag is set; no transposed copy is made."""
    return _core.matmul(a, b, bool(trans_a), bool(trans_b))


def linear(x, weight, bias=None):
    """``x @ weight.T + bias``: x (N, in_features), weight (out_features, in_features), bias (out_features)."""
    return _core.linear_forward(x, weight, bias)


def linear_backward(dout, x, weight, bias=None, *, dx=None, dweight=None, dbias=None):
    """Gradients of :func:`linear`: ``(dx, dweight, dbias)``; ``dbias`` is None when ``bias`` is None."""
    x = np.asarray(x)
    weight = np.asarray(weight)
    dx = grad_buffer(dx, x.shape, x.dtype)
    dweight = grad_buffer(dweight, weight.shape, x.dtype)
    dbias = grad_buffer(dbias, (weight.shape[0],), x.dtype) if bias is not None else None
    _core.linear_backward(dout, x, weight, dx, dweight, dbias)
    return dx, dweight, dbias
