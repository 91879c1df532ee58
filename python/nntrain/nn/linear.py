"""Fully connected layer: y = x W^T + b, weight (out_features, in_features) as in PyTorch."""

import numpy as np

from .. import functional as F
from . import init
from .module import Module, Parameter


def _shape_text(shape):
    return "(N, " + ", ".join(str(d) for d in shape) + ")"


class Linear(Module):
    def __init__(self, in_features, out_features, bias=True, *, rng=None, dtype=np.float32):
        super().__init__()
        if in_features < 1 or out_features < 1:
            raise ValueError(f"Linear: features must be >= 1, got in={in_features}, out={out_features}")
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        self.weight = Parameter(np.empty((out_features, in_features), dtype=dtype))
        self.bias = Parameter(np.empty(out_features, dtype=dtype)) if bias else None
        self.reset_parameters(rng)

    @classmethod
    def infer_args(cls, input_shape):
        if len(input_shape) != 1:
            raise ValueError(f"expects input (N, features) but receives {_shape_text(input_shape)}; add a Flatten "
                             "before it")
        return {"in_features": int(input_shape[0])}

    def reset_parameters(self, rng=None):
        """PyTorch's default: U(-1/sqrt(in_features), 1/sqrt(in_features)) for weight and bias."""
        init.default_init_(self.weight, self.bias, rng)

    def forward(self, x):
        if x.ndim < 1 or x.shape[-1] != self.in_features:
            raise ValueError(f"Linear({self.in_features}, {self.out_features}): expected input (N, "
                             f"{self.in_features}), got {tuple(x.shape)}")
        if x.ndim == 2:
            return F.linear(x, self.weight, self.bias)
        lead = x.shape[:-1]  # (*, in_features), as in PyTorch: the leading dims are one batch
        return F.linear(x.reshape(-1, self.in_features), self.weight, self.bias).reshape(lead + (self.out_features,))

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
