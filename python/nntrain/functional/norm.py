"""Batch normalisation over (N, C) or (N, C, H, W)."""

import numpy as np

from .. import _core
from ._grads import grad_buffer


def batch_norm(x, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5,
               return_stats=False, relu=False):
    """weight * (x - mean) / sqrt(var + eps) + bias, per channel.

    training: the batch's mean and (biased) variance, and the running statistics, when given, move
    towards them in place: running = (1 - momentum) running + momentum * batch (unbiased variance).
    Otherwise the running statistics. With return_stats, also returns the (mean, 1/sqrt(var + eps)) used,
    which :func:`batch_norm_backward` needs. With relu, the output is max(out, 0), computed in the same pass
    (a BatchNorm followed by a ReLU, fused).
    """
    out, mean, invstd = _core.batch_norm_forward(x, running_mean, running_var, weight, bias, bool(training),
                                                 float(momentum), float(eps), bool(relu))
    return (out, mean, invstd) if return_stats else out


def batch_norm_backward(dout, x, weight, mean, invstd, training=True, *, dx=None, dweight=None, dbias=None,
                        relu_out=None):
    """Gradients ``(dx, dweight, dbias)``; dweight and dbias are None when weight is None. relu_out, the
    output of a ``batch_norm(..., relu=True)``, makes these the gradients of the fused BatchNorm+ReLU."""
    x = np.asarray(x)
    channels = (x.shape[1],) if x.ndim >= 2 else (0,)
    dx = grad_buffer(dx, x.shape, x.dtype)
    dweight = grad_buffer(dweight, channels, x.dtype) if weight is not None else None
    dbias = grad_buffer(dbias, channels, x.dtype) if weight is not None else None
    _core.batch_norm_backward(dout, x, weight, mean, invstd, bool(training), dx, dweight, dbias, relu_out)
    return dx, dweight, dbias
