"""Losses, mean-reduced: cross-entropy fused with softmax, mean squared error, mean absolute error."""

import numbers

import numpy as np

from .. import _core
from ..autograd.function import Function
from ._grads import single_grad


def _target(target, logits):
    """Integer labels travel as int64; probability rows must have the logits' dtype."""
    target = np.asarray(getattr(target, "data", target))
    if target.dtype.kind in "iub":
        return np.asarray(target, dtype=np.int64, order="C")  # a 0-d label stays 0-d, and is refused
    return target


class CrossEntropy(Function):
    """Mean cross-entropy of softmax(logits) against labels or probability rows; backward from the probs."""

    contiguous_inputs = True

    @staticmethod
    def forward(ctx, logits, target, label_smoothing=0.0, probs_out=None):
        target = _target(target, logits)
        loss, probs = _core.cross_entropy_forward(logits, target, float(label_smoothing))
        ctx.probs, ctx.target, ctx.label_smoothing = probs, target, float(label_smoothing)
        if probs_out is not None:
            probs_out.append(probs)
        return np.asarray(loss, dtype=logits.dtype)

    @staticmethod
    def backward(ctx, g):
        if ctx.needs_input_grad[1]:
            raise RuntimeError("cross_entropy: the gradient w.r.t. probability targets is not implemented; "
                               "detach the target")
        return cross_entropy_backward(ctx.probs, ctx.target, ctx.label_smoothing, float(g)), None


def cross_entropy(input, target, weight=None, label_smoothing=0.0, return_probs=False):
    """Mean of -sum(t * log softmax(input)) over the batch.

    target: integer labels (N,) in [0, C), or probability rows (N, C) such as one-hot targets.
    label_smoothing e replaces the target t with (1 - e) t + e / C.
    With return_probs, also returns softmax(input), which is what the backward needs.
    """
    if weight is not None:
        if isinstance(weight, numbers.Number):
            raise TypeError("cross_entropy: the third argument is weight (per-class weights); "
                            "pass label_smoothing=... by name")
        raise NotImplementedError("cross_entropy: class weights are not supported yet")
    probs = [] if return_probs else None
    loss = CrossEntropy.apply(input, target, label_smoothing=label_smoothing, probs_out=probs)
    if isinstance(loss, np.ndarray):
        loss = float(loss)
    if return_probs:
        from .._tensor import Tensor

        return loss, (Tensor(probs[0]) if not isinstance(loss, float) else probs[0])
    return loss


def cross_entropy_backward(probs, target, label_smoothing=0.0, grad=1.0, *, dlogits=None):
    """Gradient of grad * cross_entropy w.r.t. the logits: grad / N * (probs - smoothed target)."""
    probs = np.asarray(probs)
    return single_grad(dlogits, probs.shape, probs.dtype, lambda d: _core.cross_entropy_backward(
        probs, _target(target, probs), d, float(label_smoothing), float(grad)))


class MSE(Function):
    contiguous_inputs = True

    @staticmethod
    def forward(ctx, pred, target):
        target = np.ascontiguousarray(target, dtype=pred.dtype) if np.ndim(target) else np.asarray(target, pred.dtype)
        ctx.save_for_backward(pred, target)
        return np.asarray(_core.mse_forward(pred, target), dtype=pred.dtype)

    @staticmethod
    def backward(ctx, g):
        pred, target = ctx.saved_tensors
        dpred = mse_loss_backward(pred, target, float(g))
        need_pred, need_target = ctx.needs_input_grad
        return (dpred if need_pred else None), (-dpred if need_target else None)


def mse_loss(pred, target):
    """Mean over every element of (pred - target)^2."""
    loss = MSE.apply(pred, target)
    return float(loss) if isinstance(loss, np.ndarray) else loss


def mse_loss_backward(pred, target, grad=1.0, *, dpred=None):
    """Gradient of grad * mse_loss w.r.t. pred: grad * 2 / n * (pred - target)."""
    pred = np.asarray(pred)
    return single_grad(dpred, pred.shape, pred.dtype, lambda d: _core.mse_backward(pred, target, d, float(grad)))


class L1(Function):
    """Mean absolute error, in NumPy (no kernel: one pass each way, memory-bound either way)."""

    contiguous_inputs = True

    @staticmethod
    def forward(ctx, pred, target):
        target = np.asarray(target, dtype=pred.dtype)
        if target.shape != pred.shape:
            raise ValueError(f"target: shape {target.shape} does not match pred {pred.shape}")
        ctx.save_for_backward(pred, target)
        return np.asarray(np.abs(pred - target).mean(dtype=np.float64) if pred.size else np.nan, dtype=pred.dtype)

    @staticmethod
    def backward(ctx, g):
        pred, target = ctx.saved_tensors
        dpred = l1_loss_backward(pred, target, float(g))
        need_pred, need_target = ctx.needs_input_grad
        return (dpred if need_pred else None), (-dpred if need_target else None)


def l1_loss(pred, target):
    """Mean over every element of |pred - target|."""
    loss = L1.apply(pred, target)
    return float(loss) if isinstance(loss, np.ndarray) else loss


def l1_loss_backward(pred, target, grad=1.0):
    """Gradient of grad * l1_loss w.r.t. pred: grad / n * sign(pred - target), 0 where they are equal (as
    PyTorch takes it)."""
    pred = np.asarray(pred)
    scale = pred.dtype.type(grad / max(pred.size, 1))
    return np.sign(pred - np.asarray(target, dtype=pred.dtype)) * scale
