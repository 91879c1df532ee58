"""+ - * / and unary minus with NumPy broadcasting, powers with a scalar exponent, and matrix products.

Each backward applies the derivative of its op and then hands each input its gradient in the input's shape
and dtype (``grad_for``: broadcasting undone by summing, a promoted dtype cast back):
    d(a + b) = g, g          d(a - b) = g, -g          d(a * b) = g b, g a
    d(a / b) = g / b, -g a / b^2                      d(a^p) = g p a^(p-1)
    d(A @ B) = g B^T, A^T g
A NumPy scalar (``np.sqrt(d)`` is one) counts as a Python number, as in PyTorch: ``x * np.float64(2)`` keeps
x's dtype. The forwards use the operators, not ``np.add(a, 2.0)``: NumPy 2 takes a slow path (about 5 us) for a
Python number given to a ufunc call, and a fast one for the operator.
"""

import numpy as np

from .. import _core
from ..autograd.function import Function
from ._broadcast import broadcast_error, grad_for, like, unbroadcast


def _weak(x):
    return x.item() if isinstance(x, np.generic) else x


class Add(Function):
    @staticmethod
    def forward(ctx, a, b):
        a, b = _weak(a), _weak(b)
        ctx.inputs = (like(a), like(b))
        try:
            return a + b
        except ValueError:
            raise broadcast_error("add", np.shape(a), np.shape(b)) from None

    @staticmethod
    def backward(ctx, g):
        la, lb = ctx.inputs
        need_a, need_b = ctx.needs_input_grad
        return (grad_for(g, la) if need_a else None), (grad_for(g, lb) if need_b else None)


class Sub(Function):
    @staticmethod
    def forward(ctx, a, b):
        a, b = _weak(a), _weak(b)
        ctx.inputs = (like(a), like(b))
        try:
            return a - b
        except ValueError:
            raise broadcast_error("sub", np.shape(a), np.shape(b)) from None

    @staticmethod
    def backward(ctx, g):
        la, lb = ctx.inputs
        need_a, need_b = ctx.needs_input_grad
        return (grad_for(g, la) if need_a else None), (grad_for(-g, lb) if need_b else None)


class Mul(Function):
    @staticmethod
    def forward(ctx, a, b):
        a, b = _weak(a), _weak(b)
        need_a, need_b = ctx.needs_input_grad
        ctx.save_for_backward(a if need_b else None, b if need_a else None)  # each factor serves the other's gradient
        ctx.inputs = (like(a), like(b))
        try:
            return a * b
        except ValueError:
            raise broadcast_error("mul", np.shape(a), np.shape(b)) from None

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        la, lb = ctx.inputs
        need_a, need_b = ctx.needs_input_grad
        return (grad_for(g * b, la) if need_a else None), (grad_for(g * a, lb) if need_b else None)


class Div(Function):
    @staticmethod
    def forward(ctx, a, b):
        a, b = _weak(a), _weak(b)
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None, b)
        ctx.inputs = (like(a), like(b))
        try:
            return a / b
        except ValueError:
            raise broadcast_error("div", np.shape(a), np.shape(b)) from None

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        la, lb = ctx.inputs
        need_a, need_b = ctx.needs_input_grad
        ga = g / b
        return (grad_for(ga, la) if need_a else None), (grad_for(-ga * a / b, lb) if need_b else None)


class Neg(Function):
    @staticmethod
    def forward(ctx, a):
        return np.negative(a)

    @staticmethod
    def backward(ctx, g):
        return -g


class Pow(Function):
    @staticmethod
    def forward(ctx, a, exponent):
        exponent = _weak(exponent)
        ctx.save_for_backward(a)
        ctx.exponent = exponent
        return a ** exponent

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        p = ctx.exponent
        if p == 0:  # a constant: zero everywhere, not 0 * a^-1 (NaN at 0)
            return np.zeros(a.shape, dtype=g.dtype)
        if p == 2:
            return g * (2 * a)
        return g * (p * a ** (p - 1))


def _as_matrix_pair(a, b):
    """Vectors become a row (left) or a column (right), as in torch.matmul; returns what to squeeze after."""
    squeeze = []
    if a.ndim == 1:
        a = a[None, :]
        squeeze.append(-2)
    if b.ndim == 1:
        b = b[:, None]
        squeeze.append(-1)
    return a, b, tuple(squeeze)


def _product(a, b, trans_a=False, trans_b=False):
    """op(a) @ op(b) on the GEMM kernels for 2-D float arrays of one dtype, NumPy's matmul otherwise."""
    if (a.ndim == 2 and b.ndim == 2 and a.dtype == b.dtype and a.dtype in (np.float32, np.float64)
            and a.size and b.size):
        return _core.matmul(np.ascontiguousarray(a), np.ascontiguousarray(b), trans_a, trans_b)
    return np.matmul(np.swapaxes(a, -1, -2) if trans_a else a, np.swapaxes(b, -1, -2) if trans_b else b)


class MatMul(Function):
    """``a @ b`` for 2-D and batched (..., M, K) @ (..., K, N) operands, vectors promoted as in PyTorch."""

    @staticmethod
    def forward(ctx, a, b):
        a, b = np.asarray(a), np.asarray(b)
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError(f"matmul: both operands need at least 1 dimension, got shapes {a.shape} and {b.shape}")
        a2, b2, squeeze = _as_matrix_pair(a, b)
        if a2.shape[-1] != b2.shape[-2]:
            raise ValueError(f"matmul: shapes {a.shape} and {b.shape} do not fit ({a2.shape[-1]} != {b2.shape[-2]})")
        if a2.ndim > 2 or b2.ndim > 2:
            try:
                np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
            except ValueError:
                raise ValueError(f"matmul: the batch dimensions {a2.shape[:-2]} and {b2.shape[:-2]} of shapes {a.shape} "
                                 f"and {b.shape} cannot be broadcast together") from None
        ctx.save_for_backward(a2, b2)
        ctx.inputs = (like(a), like(b))
        ctx.squeeze = squeeze
        out = _product(a2, b2)
        return out.squeeze(squeeze) if squeeze else out

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        (sa, dtype_a), (sb, dtype_b) = ctx.inputs
        for axis in sorted(ctx.squeeze, reverse=True):
            g = np.expand_dims(g, axis)
        g = np.ascontiguousarray(g)
        need_a, need_b = ctx.needs_input_grad
        ga = gb = None
        if need_a:
            ga = unbroadcast(_product(g, b, trans_b=True), a.shape).reshape(sa).astype(dtype_a, copy=False)
        if need_b:
            gb = unbroadcast(_product(a, g, trans_a=True), b.shape).reshape(sb).astype(dtype_b, copy=False)
        return ga, gb


def matmul(a, b):
    """``a @ b`` (tensors or arrays), as ``torch.matmul``."""
    return MatMul.apply(a, b)
