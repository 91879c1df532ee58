"""Dropout: while training, zero each element with probability p and scale the rest by 1/(1-p), so the
expected activation is unchanged; in evaluation, the identity."""

import numpy as np

from .. import functional as F
from .module import Module


class Dropout(Module):
    def __init__(self, p=0.5, *, rng=None):
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"Dropout: p must be in [0, 1], got {p}")
        self.p = float(p)
        self.rng = rng if rng is not None else np.random.default_rng()

    def reset_parameters(self, rng=None):
        """A generator of its own, seeded from ``rng``: the masks of a run follow from the run's seed."""
        if rng is not None:
            self.rng = np.random.default_rng(int(rng.integers(0, 2**63 - 1)))

    def forward(self, x):
        if not self.training or self.p == 0:
            return x
        # A fresh mask per call, drawn from the run's generator; the kernel regenerates it from the seed in
        # backward, so no mask is stored.
        return F.dropout(x, self.p, training=True, seed=int(self.rng.integers(0, 2**63 - 1)))

    def extra_repr(self):
        return f"p={self.p}"
