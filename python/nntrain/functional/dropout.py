"""Dropout whose mask is a pure function of (seed, element index): the backward regenerates it, and
the same seed gives the same mask on any number of threads."""

import numpy as np

from .. import _core
from ._grads import single_grad


def _seed(seed):
    return int(seed) % 2**64


def dropout(x, p=0.5, seed=0, training=True):
    """Zero each element with probability p and scale the rest by 1 / (1 - p); the identity when not training."""
    if not training:
        return x
    return _core.dropout_forward(x, float(p), _seed(seed))


def dropout_backward(dout, p, seed, *, dx=None):
    """dout through the same mask and scale as :func:`dropout` with this seed."""
    dout = np.asarray(dout)
    return single_grad(dx, dout.shape, dout.dtype, lambda d: _core.dropout_backward(dout, d, float(p), _seed(seed)))
