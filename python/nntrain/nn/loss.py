"""Losses as modules: ``loss_fn(prediction, target)`` returns the loss (a 0-d Tensor for Tensor inputs, a
float for arrays), as ``torch.nn`` losses do."""

import numpy as np

from .. import functional as F
from .module import Module


class _Loss(Module):
    def _call_on_arrays(self, args, kwargs):
        out = super()._call_on_arrays(args, kwargs)
        return float(out)


class CrossEntropyLoss(_Loss):
    """Mean cross-entropy of softmax(logits) against integer labels (N,) or probability targets (N, K)
    such as one-hot rows; ``label_smoothing`` mixes the target with the uniform distribution.
    Softmax and the log are fused and max-subtracted, so logits of any size are safe."""

    def __init__(self, label_smoothing=0.0):
        super().__init__()
        if not 0 <= label_smoothing <= 1:
            raise ValueError(f"CrossEntropyLoss: label_smoothing must be in [0, 1], got {label_smoothing}")
        self.label_smoothing = float(label_smoothing)

    def forward(self, input, target):
        return F.cross_entropy(input, target, label_smoothing=self.label_smoothing)

    def extra_repr(self):
        return f"label_smoothing={self.label_smoothing}" if self.label_smoothing else ""


class MSELoss(_Loss):
    """Mean squared error, mean over every element."""

    def forward(self, input, target):
        if isinstance(target, np.ndarray) and target.dtype != input.dtype:
            target = target.astype(input.dtype)
        return F.mse_loss(input, target)


class L1Loss(_Loss):
    """Mean absolute error, mean over every element: mean |input - target|."""

    def forward(self, input, target):
        return F.l1_loss(input, target)
