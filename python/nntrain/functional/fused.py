"""Ops fused for speed: the layers a CNN repeats, in one pass over memory instead of one per layer."""

import numpy as np

from .. import _core
from ..autograd.function import Function
from ._grads import grad_buffer
from .norm import _array


class BatchNormReluMaxPool2d(Function):
    """max_pool2d(relu(batch_norm(x)), 2); the backward reads x, the statistics and the int8 window codes."""

    contiguous_inputs = True

    @staticmethod
    def forward(ctx, x, weight=None, bias=None, running_mean=None, running_var=None, training=False, momentum=0.1,
                eps=1e-5):
        out, mean, invstd, code = _core.bn_relu_pool_forward(x, running_mean, running_var, weight, bias,
                                                             bool(training), float(momentum), float(eps))
        ctx.save_for_backward(x, weight)
        ctx.mean, ctx.invstd, ctx.code, ctx.training = mean, invstd, code, bool(training)
        return out

    @staticmethod
    def backward(ctx, dy):
        x, weight = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        return batch_norm_relu_max_pool2d_backward(dy, x, weight, ctx.mean, ctx.invstd, ctx.code, ctx.training,
                                                   dx=None if need_x else False,
                                                   dweight=None if need_w else False,
                                                   dbias=None if need_b else False)


def batch_norm_relu_max_pool2d(x, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1,
                               eps=1e-5, return_stats=False):
    """``max_pool2d(relu(batch_norm(x, ...)), 2)`` over x (N, C, H, W) in one pass: (N, C, H // 2, W // 2).

    The arguments are :func:`batch_norm`'s (the running statistics move in place while training). With
    return_stats (arrays only), also returns ``(mean, invstd, code)`` for
    :func:`batch_norm_relu_max_pool2d_backward`: code (int8, the output's shape) is the window position 0..3
    each output's gradient goes to, or -1 where the ReLU stops it.
    """
    running_mean, running_var = _array(running_mean), _array(running_var)
    if return_stats:  # the explicit chain rule's API: plain arrays and what backward needs
        return _core.bn_relu_pool_forward(_array(x), running_mean, running_var, _array(weight), _array(bias),
                                          bool(training), float(momentum), float(eps))
    return BatchNormReluMaxPool2d.apply(x, weight, bias, running_mean=running_mean, running_var=running_var,
                                        training=training, momentum=momentum, eps=eps)


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
