"""Dropout whose mask is a pure function of (seed, element index): the backward regenerates it, and
the same seed gives the same mask on any number of threads."""

import numpy as np

from .. import _core
from ..autograd.function import Function
from ._grads import written_grad


def _seed(seed):
    return int(seed) % 2**64


class Dropout(Function):
    contiguous_inputs = True

    @staticmethod
    def forward(ctx, x, p, seed):
        ctx.p, ctx.seed = p, seed
        return _core.dropout_forward(x, p, seed)

    @staticmethod
    def backward(ctx, dy):
        return dropout_backward(dy, ctx.p, ctx.seed)


def dropout(x, p=0.5, training=True, seed=None):
    """Zero each element with probability p and scale the rest by 1 / (1 - p); the identity when not training.
    ``seed`` fixes the mask (nn.Dropout draws one per step from the run's generator); None draws one."""
    if not training:
        return x
    if seed is None:
        seed = int(np.random.default_rng().integers(0, 2**63 - 1))
    return Dropout.apply(x, p=float(p), seed=_seed(seed))


def dropout_backward(dout, p, seed, *, dx=None):
    """dout through the same mask and scale as :func:`dropout` with this seed."""
    return written_grad(dx, lambda d: _core.dropout_backward(np.asarray(dout), d, float(p), _seed(seed)))
