"""Elementwise nonlinearities and softmax, each a forward over the functional op of the same name."""

import math

from .. import functional as F
from .module import Module


class ReLU(Module):
    def forward(self, x):
        return F.relu(x)


class LeakyReLU(Module):
    def __init__(self, negative_slope=0.01):
        super().__init__()
        if not math.isfinite(negative_slope):
            raise ValueError(f"LeakyReLU: negative_slope must be finite, got {negative_slope}")
        self.negative_slope = float(negative_slope)

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}"


class ELU(Module):
    def __init__(self, alpha=1.0):
        super().__init__()
        self.alpha = float(alpha)

    def forward(self, x):
        return F.elu(x, self.alpha)

    def extra_repr(self):
        return f"alpha={self.alpha}"


class Sigmoid(Module):
    def forward(self, x):
        return F.sigmoid(x)


class Tanh(Module):
    def forward(self, x):
        return F.tanh(x)


class GELU(Module):
    def __init__(self, approximate="none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got '{approximate}'")
        self.approximate = approximate

    def forward(self, x):
        return F.gelu(x, self.approximate)

    def extra_repr(self):
        return f"approximate='{self.approximate}'"


class Softmax(Module):
    """softmax(x / temperature) along dim: a higher temperature flattens the distribution."""

    def __init__(self, dim=-1, temperature=1.0):
        super().__init__()
        if isinstance(dim, float):
            raise TypeError(f"Softmax: dim must be an int (the axis), got {dim!r}; for a temperature write "
                            f"Softmax(temperature={dim!r})")
        if not temperature > 0:
            raise ValueError(f"Softmax: temperature must be > 0, got {temperature}")
        self.dim, self.temperature = int(dim), float(temperature)

    def forward(self, x):
        return F.softmax(x, self.dim, self.temperature)

    def extra_repr(self):
        return f"dim={self.dim}, temperature={self.temperature}"
