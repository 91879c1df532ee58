"""Elementwise nonlinearities and softmax. Each remembers its input and output for the backward."""

import math

from .. import functional as F
from .module import Module


class _Elementwise(Module):
    """f applied elementwise; subclasses give ``_forward(x)`` and ``_backward(grad, x, y)``."""

    def forward(self, x):
        self._x = x
        self._y = self._forward(x)
        return self._y

    def backward(self, grad_out):
        return self._backward(grad_out, self._x, self._y)


class ReLU(_Elementwise):
    def _forward(self, x):
        return F.relu(x)

    def _backward(self, g, x, y):
        return F.relu_backward(g, x, y)


class LeakyReLU(_Elementwise):
    def __init__(self, negative_slope=0.01):
        super().__init__()
        if not math.isfinite(negative_slope):
            raise ValueError(f"LeakyReLU: negative_slope must be finite, got {negative_slope}")
        self.negative_slope = float(negative_slope)

    def _forward(self, x):
        return F.leaky_relu(x, self.negative_slope)

    def _backward(self, g, x, y):
        return F.leaky_relu_backward(g, x, y, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}"


class ELU(_Elementwise):
    def __init__(self, alpha=1.0):
        super().__init__()
        self.alpha = float(alpha)

    def _forward(self, x):
        return F.elu(x, self.alpha)

    def _backward(self, g, x, y):
        return F.elu_backward(g, x, y, self.alpha)

    def extra_repr(self):
        return f"alpha={self.alpha}"


class Sigmoid(_Elementwise):
    def _forward(self, x):
        return F.sigmoid(x)

    def _backward(self, g, x, y):
        return F.sigmoid_backward(g, x, y)


class Tanh(_Elementwise):
    def _forward(self, x):
        return F.tanh(x)

    def _backward(self, g, x, y):
        return F.tanh_backward(g, x, y)


class GELU(_Elementwise):
    def __init__(self, approximate="none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got '{approximate}'")
        self.approximate = approximate

    def _forward(self, x):
        return F.gelu(x, self.approximate)

    def _backward(self, g, x, y):
        return F.gelu_backward(g, x, y, self.approximate)

    def extra_repr(self):
        return f"approximate='{self.approximate}'"


class Softmax(Module):
    """softmax(x / temperature) over the last axis: a higher temperature flattens the distribution."""

    def __init__(self, temperature=1.0):
        super().__init__()
        if not temperature > 0:
            raise ValueError(f"Softmax: temperature must be > 0, got {temperature}")
        self.temperature = float(temperature)

    def forward(self, x):
        self._y = F.softmax(x, self.temperature)
        return self._y

    def backward(self, grad_out):
        return F.softmax_backward(grad_out, self._y, self.temperature)

    def extra_repr(self):
        return f"temperature={self.temperature}"
