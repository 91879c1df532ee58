"""Ops fused for speed: the layers a CNN repeats, in one pass over memory instead of one per layer."""

import numpy as np

from .. import _core
from ._grads import grad_buffer


def batch_norm_relu_max_pool2d(x, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1,
                               eps=1e-5, return_stats=False):
    """``max_pool2d(relu(batch_norm(x, ...)), 2)`` over x (N, C, H, W) in one pass: (N, C, H // 2, W // 2).

    The arguments are :func:`batch_norm`'s (the running statistics move in place while training). With
    return_stats, also returns ``(mean, invstd, code)`` for :func:`batch_norm_relu_max_pool2d_backward`:
    code (int8, the output's shape) is the window position 0..3 each output's gradient goes to, or -1
    where the ReLU stops it.
    """
    out, mean, invstd, code = _core.bn_relu_pool_forward(x, running_mean, running_var, weight, bias, bool(training),
                                                         float(momentum), float(eps))
    return (out, mean, invstd, code) if return_stats else out


def batch_norm_relu_max_pool2d_backward(dout, x, weight, mean, invstd, code, training=True, *, dx=None, dweight=None,
                                        dbias=None):
    """Gradients ``(dx, dweight, dbias)`` of :func:`batch_norm_relu_max_pool2d`; dweight and dbias are None when
    weight is None."""
    x = np.asarray(x)
    channels = (x.shape[1],) if x.ndim >= 2 else (0,)
    dx = grad_buffer(dx, x.shape, x.dtype)
    dweight = grad_buffer(dweight, channels, x.dtype) if weight is not None else None
    dbias = grad_buffer(dbias, channels, x.dtype) if weight is not None else None
    _core.bn_relu_pool_backward(dout, x, code, weight, mean, invstd, bool(training), dx, dweight, dbias)
    return dx, dweight, dbias
