"""Losses: forward(prediction, target) -> float, backward() -> gradient w.r.t. the prediction."""

import numpy as np

from .. import functional as F


class CrossEntropyLoss:
    """Mean cross-entropy of softmax(logits) against integer labels (N,) or probability targets (N, K)
    such as one-hot rows; ``label_smoothing`` mixes the target with the uniform distribution.
    Softmax and the log are fused and max-subtracted, so logits of any size are safe."""

    def __init__(self, label_smoothing=0.0):
        if not 0 <= label_smoothing <= 1:
            raise ValueError(f"CrossEntropyLoss: label_smoothing must be in [0, 1], got {label_smoothing}")
        self.label_smoothing = float(label_smoothing)

    def forward(self, logits, target):
        self._target = target
        loss, self._probs = F.cross_entropy(logits, target, self.label_smoothing, return_probs=True)
        return loss

    __call__ = forward

    def backward(self, grad=1.0):
        return F.cross_entropy_backward(self._probs, self._target, self.label_smoothing, grad)

    @property
    def probs(self):
        """softmax(logits) of the last forward."""
        return self._probs


class MSELoss:
    """Mean squared error, mean over every element."""

    def forward(self, pred, target):
        self._pred, self._target = pred, np.asarray(target, dtype=pred.dtype)
        return F.mse_loss(pred, self._target)

    __call__ = forward

    def backward(self, grad=1.0):
        return F.mse_loss_backward(self._pred, self._target, grad)


class L1Loss:
    """Mean absolute error, mean over every element: mean |pred - target|. Its gradient is
    sign(pred - target) / n, taken as 0 where they are equal (as PyTorch does)."""

    def forward(self, pred, target):
        target = np.asarray(target, dtype=pred.dtype)
        if target.shape != pred.shape:
            raise ValueError(f"target: shape {target.shape} does not match pred {pred.shape}")
        self._diff = pred - target
        return float(np.abs(self._diff, dtype=np.float64).mean()) if pred.size else float("nan")

    __call__ = forward

    def backward(self, grad=1.0):
        return (np.sign(self._diff) * (grad / max(self._diff.size, 1))).astype(self._diff.dtype, copy=False)
