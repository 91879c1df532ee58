"""Activations, softmax and log-softmax: each op a Function (forward on the kernel, backward on the kernel's
backward), and each ``*_backward`` the plain-array chain rule the Function's backward calls.

The forwards take NumPy arrays (arrays out, nothing recorded) or Tensors (a Tensor out, recorded for
``backward()``). Backward functions take the forward's input ``x`` and output ``y``; each activation's
derivative is cheapest in one of them (sigmoid and tanh in y, the rest in x), and the other may be None.
"""

import numbers

import numpy as np

from .. import _core
from ..autograd.function import Function
from ._grads import written_grad


def _backward(kind, dout, x, y, dx, param=0.0):
    return written_grad(dx, lambda d: _core.activation_backward(kind, np.asarray(dout), x, y, d, param))


class _Activation(Function):
    """y = f(x) elementwise. Subclasses name the kernel (``kind``) and whether the derivative reads the
    output (sigmoid, tanh) or the input; only that one array is kept for backward."""

    kind = None
    from_output = False
    contiguous_inputs = True

    @staticmethod
    def forward(ctx, x, param=0.0):
        op = ctx.function
        y = _core.activation_forward(op.kind, x, param)
        ctx.save_for_backward(y if op.from_output else x)
        ctx.param = param
        return y

    @staticmethod
    def backward(ctx, dy):
        op = ctx.function
        (saved,) = ctx.saved_tensors
        x, y = (None, saved) if op.from_output else (saved, None)
        return _backward(op.kind, dy, x, y, None, ctx.param)


class ReLU(_Activation):
    kind = "relu"


class LeakyReLU(_Activation):
    kind = "leaky_relu"


class ELU(_Activation):
    kind = "elu"


class Sigmoid(_Activation):
    kind, from_output = "sigmoid", True


class Tanh(_Activation):
    kind, from_output = "tanh", True


class GELU(_Activation):
    kind = "gelu"


class GELUTanh(_Activation):
    kind = "gelu_tanh"


def relu(x):
    """max(x, 0)."""
    return ReLU.apply(x)


def relu_backward(dout, x, y=None, *, dx=None):
    return _backward("relu", dout, x, y, dx)


def leaky_relu(x, negative_slope=0.01):
    """x where x > 0, negative_slope * x elsewhere."""
    return LeakyReLU.apply(x, param=float(negative_slope))


def leaky_relu_backward(dout, x, y=None, negative_slope=0.01, *, dx=None):
    return _backward("leaky_relu", dout, x, y, dx, float(negative_slope))


def elu(x, alpha=1.0):
    """x where x > 0, alpha * (exp(x) - 1) elsewhere."""
    return ELU.apply(x, param=float(alpha))


def elu_backward(dout, x, y=None, alpha=1.0, *, dx=None):
    return _backward("elu", dout, x, y, dx, float(alpha))


def sigmoid(x):
    """1 / (1 + exp(-x))."""
    return Sigmoid.apply(x)


def sigmoid_backward(dout, x=None, y=None, *, dx=None):
    """dout * y * (1 - y); y is recomputed from x when not given."""
    return _backward("sigmoid", dout, None, sigmoid(x) if y is None else y, dx)


def tanh(x):
    return Tanh.apply(x)


def tanh_backward(dout, x=None, y=None, *, dx=None):
    """dout * (1 - y^2); y is recomputed from x when not given."""
    return _backward("tanh", dout, None, tanh(x) if y is None else y, dx)


def _gelu_kind(approximate):
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return "gelu" if approximate == "none" else "gelu_tanh"


def gelu(x, approximate="none"):
    """x * Phi(x) (Phi the standard normal CDF), or its tanh approximation."""
    return (GELU if _gelu_kind(approximate) == "gelu" else GELUTanh).apply(x)


def gelu_backward(dout, x, y=None, approximate="none", *, dx=None):
    return _backward(_gelu_kind(approximate), dout, x, y, dx)


# ---- softmax over any dim ------------------------------------------------------------------------------------
# The kernels work on rows (the last axis); another dim is moved last and back.

def _check_dim(dim, ndim, op):
    if isinstance(dim, bool) or not isinstance(dim, numbers.Integral):
        raise TypeError(f"{op}: dim must be an int (the axis), got {dim!r}; a temperature is temperature=...")
    if not -max(ndim, 1) <= dim < max(ndim, 1):
        raise IndexError(f"{op}: dim {dim} is out of range for an input of {ndim} dimensions")
    return int(dim) % max(ndim, 1)


def _rows(x, axis):
    """x with ``axis`` last, C-contiguous (no copy when it already is)."""
    if x.ndim and axis != x.ndim - 1:
        x = np.moveaxis(x, axis, -1)
    return x if x.flags.c_contiguous else np.ascontiguousarray(x)


def _unrows(y, axis):
    return y if axis == y.ndim - 1 or y.ndim == 0 else np.moveaxis(y, -1, axis)


class _Softmax(Function):
    """softmax (or log_softmax) of x / temperature along one dim; backward needs only the output."""

    log = False
    contiguous_inputs = True

    @staticmethod
    def forward(ctx, x, dim=-1, temperature=1.0):
        axis = _check_dim(dim, x.ndim, "log_softmax" if ctx.function.log else "softmax")
        kernel = _core.log_softmax_forward if ctx.function.log else _core.softmax_forward
        y = kernel(_rows(x, axis), float(temperature))
        ctx.save_for_backward(y)
        ctx.axis, ctx.temperature = axis, temperature
        return _unrows(y, axis)

    @staticmethod
    def backward(ctx, dy):
        (y,) = ctx.saved_tensors  # kept with dim last, as the kernel made it
        kernel = log_softmax_backward if ctx.function.log else softmax_backward
        return _unrows(kernel(_rows(dy, ctx.axis), y, ctx.temperature), ctx.axis)


class Softmax(_Softmax):
    pass


class LogSoftmax(_Softmax):
    log = True


def softmax(x, dim=-1, temperature=1.0):
    """softmax(x / temperature) along dim: a higher temperature flattens the distribution."""
    return Softmax.apply(x, dim=dim, temperature=temperature)


def softmax_backward(dout, y, temperature=1.0, *, dx=None):
    """Gradient w.r.t. x of softmax over the last axis, from its output y."""
    return written_grad(dx, lambda d: _core.softmax_backward(dout, np.asarray(y), d, float(temperature)))


def log_softmax(x, dim=-1, temperature=1.0):
    """log softmax(x / temperature) along dim, computed without forming the softmax."""
    return LogSoftmax.apply(x, dim=dim, temperature=temperature)


def log_softmax_backward(dout, y, temperature=1.0, *, dx=None):
    """Gradient w.r.t. x of log_softmax over the last axis, from its output y."""
    return written_grad(dx, lambda d: _core.log_softmax_backward(dout, np.asarray(y), d, float(temperature)))
