"""Losses that compare a prediction with a target element by element, then reduce ('mean', 'sum', 'none'):

    mse_loss                          (x - y)^2                                d/dx = 2 (x - y)
    l1_loss                           |x - y|                                  d/dx = sign(x - y)
    smooth_l1_loss (beta)             (x - y)^2 / (2 beta) where |x - y| < beta, |x - y| - beta / 2 elsewhere
                                                                               d/dx = (x - y) / beta, or sign(x - y)
    binary_cross_entropy_with_logits  -w [p y log s(x) + (1 - y) log(1 - s(x))], s the sigmoid, p = pos_weight
                                      = w [(1 - y) x + (1 + (p - 1) y) softplus(-x)]   (stable for any x)
                                      d/dx = w [(1 - y) - (1 + (p - 1) y) s(-x)]
                                      d/dy = w [-x + (p - 1) softplus(-x)]

Each is a Function whose backward also gives the target's gradient when the target requires one, as in
PyTorch. The mean mse_loss runs on the fused C++ kernel; the others are NumPy expressions over arrays the
size of the prediction (never the bottleneck of a step). Weights (``weight``, ``pos_weight``) are constants.
"""

import numpy as np

from .. import _core
from ..autograd.function import Function
from ._reduction import as_result, check_reduction, reduce, spread


def _same_shape(op, input, target):
    if np.shape(input) != np.shape(target):
        raise ValueError(f"{op}: target of shape {tuple(np.shape(target))} does not match input of shape "
                         f"{tuple(np.shape(input))}")


def _array(x):
    return getattr(x, "data", x)


def _constant(op, name, x, dtype):
    """A weight given as an array, a Tensor or a number: an array of the input's dtype (or None)."""
    if isinstance(x, str):
        raise TypeError(f"{op}: {name} must be an array of weights, got {x!r}; pass reduction=... by name")
    return None if x is None else np.asarray(_array(x), dtype=dtype)


def _target_like(target, pred):
    target = np.asarray(target)
    return target if target.dtype == pred.dtype else target.astype(pred.dtype)


class _ElementwiseLoss(Function):
    """reduce(loss(pred, target)); subclasses give the elementwise ``value`` and its derivative ``slope``
    d(loss)/d(pred); d(loss)/d(target) is -slope unless ``target_slope`` says otherwise."""

    contiguous_inputs = True

    @staticmethod
    def forward(ctx, pred, target, reduction="mean", **params):
        target = _target_like(target, pred)
        op = ctx.function
        ctx.save_for_backward(pred, target)
        ctx.reduction, ctx.params = reduction, params
        return reduce(op.value(pred, target, **params), reduction)

    @staticmethod
    def backward(ctx, g):
        pred, target = ctx.saved_tensors
        op = ctx.function
        g = spread(g, pred.shape, ctx.reduction)
        need_pred, need_target = ctx.needs_input_grad
        slope = op.slope(pred, target, **ctx.params) if need_pred or op.target_slope is None else None
        dpred = (g * slope).astype(pred.dtype, copy=False) if need_pred else None
        dtarget = None
        if need_target:
            dtarget = -(g * slope) if op.target_slope is None else g * op.target_slope(pred, target, **ctx.params)
            dtarget = dtarget.astype(pred.dtype, copy=False)
        return dpred, dtarget

    target_slope = None


class MSE(_ElementwiseLoss):
    @staticmethod
    def forward(ctx, pred, target, reduction="mean"):
        if reduction == "none":
            return _ElementwiseLoss.forward(ctx, pred, target, reduction)
        # mean and sum on the kernel: one pass, summed in double in a fixed order
        target = np.ascontiguousarray(target, dtype=pred.dtype) if np.ndim(target) else np.asarray(target, pred.dtype)
        ctx.save_for_backward(pred, target)
        ctx.reduction, ctx.params = reduction, {}
        mean = _core.mse_forward(pred, target)
        return np.asarray(mean * pred.size if reduction == "sum" else mean, dtype=pred.dtype)

    @staticmethod
    def backward(ctx, g):
        if ctx.reduction == "none":
            return _ElementwiseLoss.backward(ctx, g)
        pred, target = ctx.saved_tensors
        scale = float(g) * (pred.size if ctx.reduction == "sum" else 1)
        dpred = mse_loss_backward(pred, target, scale)
        need_pred, need_target = ctx.needs_input_grad
        return (dpred if need_pred else None), (-dpred if need_target else None)

    @staticmethod
    def value(pred, target):
        return np.square(pred - target)

    @staticmethod
    def slope(pred, target):
        return 2 * (pred - target)


class L1(_ElementwiseLoss):
    @staticmethod
    def value(pred, target):
        return np.abs(pred - target)

    @staticmethod
    def slope(pred, target):
        return np.sign(pred - target)


class SmoothL1(_ElementwiseLoss):
    @staticmethod
    def value(pred, target, beta):
        d = np.abs(pred - target)
        if beta == 0:
            return d
        return np.where(d < beta, 0.5 * d * d / beta, d - 0.5 * beta)

    @staticmethod
    def slope(pred, target, beta):
        d = pred - target
        if beta == 0:
            return np.sign(d)
        return np.where(np.abs(d) < beta, d / beta, np.sign(d))


def _softplus_neg(x):
    """softplus(-x) = log(1 + exp(-x)) = -log sigmoid(x), without overflow for any x."""
    return np.maximum(-x, 0) + np.log1p(np.exp(-np.abs(x)))


class BCEWithLogits(_ElementwiseLoss):
    @staticmethod
    def value(x, y, weight=None, pos_weight=None):
        log_weight = 1 if pos_weight is None else 1 + (pos_weight - 1) * y
        loss = (1 - y) * x + log_weight * _softplus_neg(x)
        return loss if weight is None else loss * weight

    @staticmethod
    def slope(x, y, weight=None, pos_weight=None):
        log_weight = 1 if pos_weight is None else 1 + (pos_weight - 1) * y
        sigmoid_neg = np.exp(-_softplus_neg(-x))  # sigmoid(-x) = 1 - sigmoid(x)
        slope = (1 - y) - log_weight * sigmoid_neg
        return slope if weight is None else slope * weight

    @staticmethod
    def target_slope(x, y, weight=None, pos_weight=None):
        slope = -x if pos_weight is None else -x + (pos_weight - 1) * _softplus_neg(x)
        return slope if weight is None else slope * weight


def mse_loss(input, target, reduction="mean"):
    """(input - target)^2 per element, reduced: the mean (default), the sum, or none."""
    check_reduction("mse_loss", reduction)
    _same_shape("mse_loss", input, target)
    return as_result(MSE.apply(input, target, reduction=reduction))


def mse_loss_backward(pred, target, grad=1.0, *, dpred=None):
    """Gradient of grad * mse_loss (mean) w.r.t. pred: grad * 2 / n * (pred - target)."""
    from ._grads import written_grad

    return written_grad(dpred, lambda d: _core.mse_backward(np.asarray(pred), target, d, float(grad)))


def l1_loss(input, target, reduction="mean"):
    """|input - target| per element, reduced."""
    check_reduction("l1_loss", reduction)
    _same_shape("l1_loss", input, target)
    return as_result(L1.apply(input, target, reduction=reduction))


def smooth_l1_loss(input, target, reduction="mean", beta=1.0):
    """Squared below beta (divided by 2 beta), absolute above (less beta / 2): the Huber loss over beta."""
    check_reduction("smooth_l1_loss", reduction)
    _same_shape("smooth_l1_loss", input, target)
    if not beta >= 0:
        raise ValueError(f"smooth_l1_loss: beta must be >= 0, got {beta}")
    return as_result(SmoothL1.apply(input, target, reduction=reduction, beta=float(beta)))


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean", pos_weight=None):
    """Binary cross-entropy of sigmoid(input) against targets in [0, 1], from the logits (stable for any
    logit). ``weight`` rescales each element (broadcast to the input); ``pos_weight`` (broadcast along the
    last dim, one per class) weighs the positive term, trading recall against precision."""
    op = "binary_cross_entropy_with_logits"
    check_reduction(op, reduction)
    if np.shape(input) != np.shape(target):
        raise ValueError(f"{op}: target size {tuple(np.shape(target))} must be the same as input size "
                         f"{tuple(np.shape(input))}")
    dtype = np.asarray(_array(input)).dtype
    weight, pos_weight = _constant(op, "weight", weight, dtype), _constant(op, "pos_weight", pos_weight, dtype)
    for name, w in (("weight", weight), ("pos_weight", pos_weight)):
        if w is not None:
            try:
                np.broadcast_shapes(w.shape, np.shape(input))
            except ValueError:
                raise ValueError(f"{op}: {name} of shape {w.shape} does not broadcast to the input's "
                                 f"{tuple(np.shape(input))}") from None
    return as_result(BCEWithLogits.apply(input, target, reduction=reduction, weight=weight, pos_weight=pos_weight))
