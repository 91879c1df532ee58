"""Activations, softmax and log-softmax, each with its backward.

Backward functions take the forward's input ``x`` and output ``y``; each activation's derivative is
cheapest in one of them (sigmoid and tanh in y, the rest in x), and the other may be None.
"""

import numpy as np

from .. import _core
from ._grads import single_grad


def _backward(kind, dout, x, y, dx, param=0.0):
    dout = np.asarray(dout)
    return single_grad(dx, dout.shape, dout.dtype, lambda d: _core.activation_backward(kind, dout, x, y, d, param))


def relu(x):
    """max(x, 0)."""
    return _core.activation_forward("relu", x)


def relu_backward(dout, x, y=None, *, dx=None):
    return _backward("relu", dout, x, y, dx)


def leaky_relu(x, negative_slope=0.01):
    """x where x > 0, negative_slope * x elsewhere."""
    return _core.activation_forward("leaky_relu", x, float(negative_slope))


def leaky_relu_backward(dout, x, y=None, negative_slope=0.01, *, dx=None):
    return _backward("leaky_relu", dout, x, y, dx, float(negative_slope))


def elu(x, alpha=1.0):
    """x where x > 0, alpha * (exp(x) - 1) elsewhere."""
    return _core.activation_forward("elu", x, float(alpha))


def elu_backward(dout, x, y=None, alpha=1.0, *, dx=None):
    return _backward("elu", dout, x, y, dx, float(alpha))


def sigmoid(x):
    """1 / (1 + exp(-x))."""
    return _core.activation_forward("sigmoid", x)


def sigmoid_backward(dout, x=None, y=None, *, dx=None):
    """dout * y * (1 - y); y is recomputed from x when not given."""
    return _backward("sigmoid", dout, None, sigmoid(x) if y is None else y, dx)


def tanh(x):
    return _core.activation_forward("tanh", x)


def tanh_backward(dout, x=None, y=None, *, dx=None):
    """dout * (1 - y^2); y is recomputed from x when not given."""
    return _backward("tanh", dout, None, tanh(x) if y is None else y, dx)


def _gelu_kind(approximate):
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return "gelu" if approximate == "none" else "gelu_tanh"


def gelu(x, approximate="none"):
    """x * Phi(x) (Phi the standard normal CDF), or its tanh approximation."""
    return _core.activation_forward(_gelu_kind(approximate), x)


def gelu_backward(dout, x, y=None, approximate="none", *, dx=None):
    return _backward(_gelu_kind(approximate), dout, x, y, dx)


def softmax(x, temperature=1.0):
    """softmax(x / temperature) over the last axis: a higher temperature flattens the distribution."""
    return _core.softmax_forward(x, float(temperature))


def softmax_backward(dout, y, temperature=1.0, *, dx=None):
    """Gradient w.r.t. x of softmax, from its output y."""
    y = np.asarray(y)
    return single_grad(dx, y.shape, y.dtype, lambda d: _core.softmax_backward(dout, y, d, float(temperature)))


def log_softmax(x, temperature=1.0):
    """log softmax(x / temperature) over the last axis, computed without forming the softmax."""
    return _core.log_softmax_forward(x, float(temperature))


def log_softmax_backward(dout, y, temperature=1.0, *, dx=None):
    """Gradient w.r.t. x of log_softmax, from its output y."""
    y = np.asarray(y)
    return single_grad(dx, y.shape, y.dtype, lambda d: _core.log_softmax_backward(dout, y, d, float(temperature)))
