"""L1 and L2 penalties on the weights: a term added to the loss (recorded, so backward adds its gradient).

    L2: strength/2 * sum(w^2)   gradient  strength * w
    L1: strength   * sum(|w|)   gradient  strength * sign(w)

Only weights (parameters with 2 or more dimensions) are penalised, not biases or BatchNorm scales.
For decoupled weight decay use AdamW.
"""

import numpy as np

from ..autograd.function import Function


def penalised(model):
    return [p for p in model.parameters() if p.data.ndim >= 2]


class HalfSquaredNorm(Function):
    """sum(w^2) / 2 of one array; the gradient is w."""

    @staticmethod
    def forward(ctx, w):
        ctx.save_for_backward(w)
        return np.asarray(0.5 * np.vdot(w, w), dtype=w.dtype)

    @staticmethod
    def backward(ctx, g):
        (w,) = ctx.saved_tensors
        return w * g


class AbsSum(Function):
    """sum(|w|) of one array; the gradient is sign(w)."""

    @staticmethod
    def forward(ctx, w):
        ctx.save_for_backward(w)
        return np.asarray(np.abs(w).sum(), dtype=w.dtype)

    @staticmethod
    def backward(ctx, g):
        (w,) = ctx.saved_tensors
        return np.sign(w) * g


class _Penalty:
    term = None

    def __init__(self, strength):
        if not strength >= 0:
            raise ValueError(f"{type(self).__name__}: strength must be >= 0, got {strength}")
        self.strength = float(strength)

    def __call__(self, model):
        """strength times the sum of the term over the model's weights: a 0-d Tensor to add to the loss."""
        total = None
        for p in penalised(model):
            term = self.term.apply(p)
            total = term if total is None else total + term
        return 0.0 if total is None else total * self.strength

    def backward(self, model):
        """The explicit chain rule: adds the penalty's gradient into each weight's .grad."""
        for p in penalised(model):
            g = self.strength * self.gradient(p.data)
            p.grad = g.astype(p.dtype) if p.grad is None else p.grad + g


class L2Penalty(_Penalty):
    term = HalfSquaredNorm

    @staticmethod
    def gradient(w):
        return w


class L1Penalty(_Penalty):
    term = AbsSum
    gradient = staticmethod(np.sign)
