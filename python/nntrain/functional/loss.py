"""Losses, mean-reduced: cross-entropy fused with softmax, and mean squared error."""

import numpy as np

from .. import _core
from ._grads import single_grad


def _target(target, logits):
    """Integer labels travel as int64; probability rows must have the logits' dtype."""
    target = np.asarray(target)
    if target.dtype.kind in "iub":
        return np.asarray(target, dtype=np.int64, order="C")  # a 0-d label stays 0-d, and is refused
    return target


def cross_entropy(logits, target, label_smoothing=0.0, return_probs=False):
    """Mean of -sum(t * log softmax(logits)) over the batch.

    target: integer labels (N,) in [0, C), or probability rows (N, C) such as one-hot targets.
    label_smoothing e replaces the target t with (1 - e) t + e / C.
    With return_probs, also returns softmax(logits), which is what the backward needs.
    """
    loss, probs = _core.cross_entropy_forward(logits, _target(target, logits), float(label_smoothing))
    return (loss, probs) if return_probs else loss


def cross_entropy_backward(probs, target, label_smoothing=0.0, grad=1.0, *, dlogits=None):
    """Gradient of grad * cross_entropy w.r.t. the logits: grad / N * (probs - smoothed target)."""
    probs = np.asarray(probs)
    return single_grad(dlogits, probs.shape, probs.dtype, lambda d: _core.cross_entropy_backward(
        probs, _target(target, probs), d, float(label_smoothing), float(grad)))


def mse_loss(pred, target):
    """Mean over every element of (pred - target)^2."""
    return _core.mse_forward(pred, target)


def mse_loss_backward(pred, target, grad=1.0, *, dpred=None):
    """Gradient of grad * mse_loss w.r.t. pred: grad * 2 / n * (pred - target)."""
    pred = np.asarray(pred)
    return single_grad(dpred, pred.shape, pred.dtype, lambda d: _core.mse_backward(pred, target, d, float(grad)))
