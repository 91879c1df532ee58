"""Batch normalisation over (N, C) or (N, C, H, W)."""

import numpy as np

from .. import _core
from ..autograd.function import Function
from ._grads import grad_buffer, grad_buffers


def _array(x):
    return getattr(x, "data", x) if x is not None and not isinstance(x, np.ndarray) else x


class BatchNorm(Function):
    """weight * (x - mean) * invstd + bias [then max(., 0)]; the backward reuses the forward's mean and invstd."""

    contiguous_inputs = True

    @staticmethod
    def forward(ctx, x, weight=None, bias=None, running_mean=None, running_var=None, training=False,
                momentum=0.1, eps=1e-5, relu=False):
        out, mean, invstd = _core.batch_norm_forward(x, running_mean, running_var, weight, bias, bool(training),
                                                     float(momentum), float(eps), bool(relu))
        ctx.save_for_backward(x, weight, out if relu else None)
        ctx.mean, ctx.invstd, ctx.training = mean, invstd, bool(training)
        return out

    @staticmethod
    def backward(ctx, dy):
        x, weight, relu_out = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        return batch_norm_backward(dy, x, weight, ctx.mean, ctx.invstd, ctx.training,
                                   dx=None if need_x else False, dweight=None if need_w else False,
                                   dbias=None if need_b else False, relu_out=relu_out)


def batch_norm(x, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5,
               return_stats=False, relu=False):
    """weight * (x - mean) / sqrt(var + eps) + bias, per channel.

    training: the batch's mean and (biased) variance, and the running statistics, when given, move
    towards them in place: running = (1 - momentum) running + momentum * batch (unbiased variance).
    Otherwise the running statistics. With return_stats (arrays only), also returns the (mean,
    1/sqrt(var + eps)) used, which :func:`batch_norm_backward` needs. With relu, the output is max(out, 0),
    computed in the same pass (a BatchNorm followed by a ReLU, fused).
    """
    running_mean, running_var = _array(running_mean), _array(running_var)
    if return_stats:  # the explicit chain rule's API: plain arrays and the statistics backward needs
        out, mean, invstd = _core.batch_norm_forward(_array(x), running_mean, running_var, _array(weight),
                                                     _array(bias), bool(training), float(momentum), float(eps),
                                                     bool(relu))
        return out, mean, invstd
    return BatchNorm.apply(x, weight, bias, running_mean=running_mean, running_var=running_var, training=training,
                           momentum=momentum, eps=eps, relu=relu)


def _batch_norm_grads(x, weight, dx, dweight, dbias):
    """The gradient buffers of a BatchNorm backward (grad_buffers' rule): no dweight, dbias without a weight."""
    channels = (x.shape[1],) if x.ndim >= 2 else (0,)
    if weight is None:
        dweight = dbias = False
    return grad_buffers([dx, dweight, dbias], [x.shape, channels, channels], x.dtype)


def batch_norm_backward(dout, x, weight, mean, invstd, training=True, *, dx=None, dweight=None, dbias=None,
                        relu_out=None):
    """Gradients ``(dx, dweight, dbias)``; dweight and dbias are None when weight is None. relu_out, the
    output of a ``batch_norm(..., relu=True)``, makes these the gradients of the fused BatchNorm+ReLU."""
    x = np.asarray(x)
    (dx, dweight, dbias), accumulate = _batch_norm_grads(x, weight, dx, dweight, dbias)
    _core.batch_norm_backward(dout, x, weight, mean, invstd, bool(training), dx, dweight, dbias, relu_out, accumulate)
    return dx, dweight, dbias


class BatchNormReLUMaxPool(Function):
    """max_pool2d(relu(batch_norm(x)), 2) in one kernel each way; the backward reuses the forward's statistics,
    its pooled output and the window positions it chose."""

    contiguous_inputs = True

    @staticmethod
    def forward(ctx, x, weight=None, bias=None, running_mean=None, running_var=None, training=False,
                momentum=0.1, eps=1e-5):
        out, window, mean, invstd = _core.batch_norm_relu_max_pool_forward(
            x, running_mean, running_var, weight, bias, bool(training), float(momentum), float(eps))
        ctx.save_for_backward(x, weight, out)
        ctx.window, ctx.mean, ctx.invstd, ctx.training = window, mean, invstd, bool(training)
        return out

    @staticmethod
    def backward(ctx, dy):
        x, weight, out = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        return batch_norm_relu_max_pool2d_backward(
            dy, out, ctx.window, x, weight, ctx.mean, ctx.invstd, ctx.training, dx=None if need_x else False,
            dweight=None if need_w else False, dbias=None if need_b else False)


def batch_norm_relu_max_pool2d(x, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1,
                               eps=1e-5, return_stats=False):
    """``max_pool2d(relu(batch_norm(x, ...)), 2)`` for images x (N, C, H, W): the end of a CNN stage in one pass
    over x, giving (N, C, H // 2, W // 2). The statistics are :func:`batch_norm`'s; the normalised values are
    pooled as they are made instead of being stored. With return_stats (arrays only), returns
    (out, window, mean, invstd), ``window`` (uint8) being where in each 2x2 window the maximum was (row * 2 +
    column), for :func:`batch_norm_relu_max_pool2d_backward`."""
    running_mean, running_var = _array(running_mean), _array(running_var)
    if return_stats:
        return _core.batch_norm_relu_max_pool_forward(_array(x), running_mean, running_var, _array(weight),
                                                      _array(bias), bool(training), float(momentum), float(eps))
    return BatchNormReLUMaxPool.apply(x, weight, bias, running_mean=running_mean, running_var=running_var,
                                      training=training, momentum=momentum, eps=eps)


def batch_norm_relu_max_pool2d_backward(dout, out, window, x, weight, mean, invstd, training=True, *, dx=None,
                                        dweight=None, dbias=None):
    """Gradients ``(dx, dweight, dbias)`` of :func:`batch_norm_relu_max_pool2d` given its out and window;
    dweight and dbias are None when weight is None."""
    x = np.asarray(x)
    (dx, dweight, dbias), accumulate = _batch_norm_grads(x, weight, dx, dweight, dbias)
    _core.batch_norm_relu_max_pool_backward(dout, out, window, x, weight, mean, invstd, bool(training), dx, dweight,
                                            dbias, accumulate)
    return dx, dweight, dbias


# ---- layer normalisation --------------------------------------------------------------------------------------

class LayerNorm(Function):
    """Each row of D = prod(normalized_shape) trailing values normalised by its own statistics, then
    weight * . + bias elementwise; the backward reuses the forward's mean and 1/std per row."""

    contiguous_inputs = True

    @staticmethod
    def forward(ctx, x, weight=None, bias=None, size=1, eps=1e-5):
        rows = x.reshape(-1, size)
        out, mean, rstd = _core.layer_norm_forward(rows, None if weight is None else weight.reshape(-1),
                                                   None if bias is None else bias.reshape(-1), float(eps))
        ctx.save_for_backward(x, weight)
        ctx.mean, ctx.rstd, ctx.size, ctx.has_bias = mean, rstd, size, bias is not None
        return out.reshape(x.shape)

    @staticmethod
    def backward(ctx, dy):
        x, weight = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        dx, dweight, dbias = layer_norm_backward(dy, x, ctx.size, weight, ctx.mean, ctx.rstd,
                                                 dx=None if need_x else False,
                                                 dweight=None if need_w and weight is not None else False,
                                                 dbias=None if need_b and ctx.has_bias else False)
        return dx, dweight, dbias


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """(x - mean) / sqrt(var + eps) * weight + bias over the trailing dims normalized_shape (biased variance,
    as PyTorch); weight and bias have shape normalized_shape."""
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(int(d) for d in normalized_shape)
    in_shape = tuple(np.shape(input))
    if not shape or in_shape[len(in_shape) - len(shape):] != shape or len(shape) > len(in_shape):
        raise ValueError(f"layer_norm: normalized_shape {shape} must match the trailing dims of the input "
                         f"{in_shape}")
    for name, p in (("weight", weight), ("bias", bias)):
        if p is not None and tuple(np.shape(p)) != shape:
            raise ValueError(f"layer_norm: {name} of shape {tuple(np.shape(p))} must have normalized_shape {shape}")
    return LayerNorm.apply(input, weight, bias, size=int(np.prod(shape)), eps=eps)


def layer_norm_backward(dout, x, size, weight, mean, rstd, *, dx=None, dweight=None, dbias=None):
    """Gradients ``(dx, dweight, dbias)`` of :func:`layer_norm` over rows of ``size`` trailing values, from
    the forward's per-row mean and rstd; dweight and dbias are None when skipped (False) or weight is None."""
    x = np.asarray(x)
    rows = x.reshape(-1, size)
    dx = grad_buffer(dx, x.shape, x.dtype)
    w_shape = (size,) if weight is None else np.shape(weight)
    dweight = grad_buffer(dweight, w_shape, x.dtype) if weight is not None else None
    dbias = grad_buffer(dbias, w_shape, x.dtype)
    flat = None if weight is None else np.asarray(weight).reshape(-1)
    _core.layer_norm_backward(np.asarray(dout).reshape(-1, size), rows, flat, mean, rstd,
                              None if dx is None else dx.reshape(-1, size),
                              None if dweight is None else dweight.reshape(-1),
                              None if dbias is None else dbias.reshape(-1))
    return dx, dweight, dbias
