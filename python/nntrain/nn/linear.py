"""Fully connected layer: y = x W^T + b, weight (out_features, in_features) as in PyTorch."""

import numpy as np

from .. import functional as F
from . import init
from .module import Module, Parameter


class Linear(Module):
    def __init__(self, in_features, out_features, bias=True, *, rng=None, dtype=np.float32):
        super().__init__()
        if in_features < 1 or out_features < 1:
            raise ValueError(f"Linear: features must be >= 1, got in={in_features}, out={out_features}")
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        self.weight = Parameter(np.empty((out_features, in_features), dtype=dtype))
        self.bias = Parameter(np.empty(out_features, dtype=dtype)) if bias else None
        init.default_init_(self.weight, self.bias, rng)

    def forward(self, x):
        if x.ndim != 2 or x.shape[1] != self.in_features:
            raise ValueError(f"Linear({self.in_features}, {self.out_features}): expected input (N, "
                             f"{self.in_features}), got {tuple(x.shape)}")
        self._x = x
        return F.linear(x, self.weight.data, None if self.bias is None else self.bias.data)

    def backward(self, grad_out):
        dx, _, _ = F.linear_backward(
            grad_out, self._x, self.weight.data, None if self.bias is None else self.bias.data,
            dx=None if self.needs_input_grad else False, dweight=self.weight.grad, dbias=None if self.bias is None else self.bias.grad)
        return dx

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
