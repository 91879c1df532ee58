"""Losses as modules: ``loss_fn(prediction, target)`` returns the loss (a 0-d Tensor for Tensor inputs, a
float for arrays; per-element values with reduction='none'), as ``torch.nn`` losses do. Each is its
functional op with the options fixed at construction; class weights are buffers (state-dict key "weight",
and "pos_weight" for BCEWithLogitsLoss), as in PyTorch. Options after ``weight`` are keyword-only."""

import numbers

import numpy as np

from .. import functional as F
from ..functional._reduction import as_result, check_reduction
from .module import Module


class _Loss(Module):
    def __init__(self, reduction="mean"):
        super().__init__()
        self.reduction = check_reduction(type(self).__name__, reduction)

    def _call_on_arrays(self, args, kwargs):
        return as_result(super()._call_on_arrays(args, kwargs))

    def extra_repr(self):
        return "" if self.reduction == "mean" else f"reduction={self.reduction!r}"


class _WeightedLoss(_Loss):
    def __init__(self, weight=None, reduction="mean"):
        super().__init__(reduction)
        if isinstance(weight, numbers.Number):
            raise TypeError(f"{type(self).__name__}: the first argument is weight (one per class); pass the other "
                            "options by name (e.g. label_smoothing=0.1)")
        self.register_buffer("weight", None if weight is None else np.asarray(getattr(weight, "data", weight)))


class CrossEntropyLoss(_WeightedLoss):
    """Cross-entropy of softmax(logits) against class indices (N,) or class probabilities (N, C), also over
    (N, C, d1, ...) inputs. ``weight`` (C,) rescales each class and the mean divides by the weights of the
    targets counted; targets equal to ``ignore_index`` count nowhere; ``label_smoothing`` mixes each target
    with the uniform distribution. Softmax and the log are fused and max-subtracted, so logits of any size
    are safe."""

    def __init__(self, weight=None, *, ignore_index=-100, reduction="mean", label_smoothing=0.0):
        super().__init__(weight, reduction)
        if not 0 <= label_smoothing <= 1:
            raise ValueError(f"CrossEntropyLoss: label_smoothing must be in [0, 1], got {label_smoothing}")
        self.ignore_index, self.label_smoothing = int(ignore_index), float(label_smoothing)

    def forward(self, input, target):
        return F.cross_entropy(input, target, self.weight, self.ignore_index, self.reduction, self.label_smoothing)

    def extra_repr(self):
        parts = [super().extra_repr()] + (["ignore_index=%d" % self.ignore_index] if self.ignore_index != -100 else [])
        parts += [f"label_smoothing={self.label_smoothing}"] if self.label_smoothing else []
        return ", ".join(p for p in parts if p)


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of log-probabilities (the output of LogSoftmax) at the target classes."""

    def __init__(self, weight=None, *, ignore_index=-100, reduction="mean"):
        super().__init__(weight, reduction)
        self.ignore_index = int(ignore_index)

    def forward(self, input, target):
        return F.nll_loss(input, target, self.weight, self.ignore_index, self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy of sigmoid(input) against targets in [0, 1], computed from the logits (stable);
    ``weight`` rescales each element, ``pos_weight`` (one per class, along the last dim) the positives."""

    def __init__(self, weight=None, *, reduction="mean", pos_weight=None):
        super().__init__(reduction)
        self.register_buffer("weight", None if weight is None else np.asarray(getattr(weight, "data", weight)))
        self.register_buffer("pos_weight",
                             None if pos_weight is None else np.asarray(getattr(pos_weight, "data", pos_weight)))

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, self.weight, self.reduction, self.pos_weight)


class MSELoss(_Loss):
    """Squared error per element, reduced (the mean by default)."""

    def __init__(self, *, reduction="mean"):
        super().__init__(reduction)

    def forward(self, input, target):
        return F.mse_loss(input, target, self.reduction)


class L1Loss(_Loss):
    """Absolute error per element, reduced."""

    def __init__(self, *, reduction="mean"):
        super().__init__(reduction)

    def forward(self, input, target):
        return F.l1_loss(input, target, self.reduction)


class SmoothL1Loss(_Loss):
    """Squared error below ``beta``, absolute error above: robust to outliers, smooth at zero."""

    def __init__(self, *, reduction="mean", beta=1.0):
        super().__init__(reduction)
        if not beta >= 0:
            raise ValueError(f"SmoothL1Loss: beta must be >= 0, got {beta}")
        self.beta = float(beta)

    def forward(self, input, target):
        return F.smooth_l1_loss(input, target, self.reduction, self.beta)

    def extra_repr(self):
        return ", ".join(p for p in (super().extra_repr(), f"beta={self.beta}" if self.beta != 1.0 else "") if p)
