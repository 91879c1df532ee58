"""+ - * / and unary minus with NumPy broadcasting, powers with a scalar exponent, and matrix products.

Each backward applies the derivative of its op and then undoes the broadcasting (``unbroadcast``):
    d(a + b) = g, g          d(a - b) = g, -g          d(a * b) = g b, g a
    d(a / b) = g / b, -g a / b^2                      d(a^p) = g p a^(p-1)
    d(A @ B) = g B^T, A^T g
"""

import numpy as np

from .. import _core
from ..autograd.function import Function
from ._broadcast import unbroadcast


def _shape(x):
    return np.shape(x)


class Add(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (_shape(a), _shape(b))
        return np.add(a, b)

    @staticmethod
    def backward(ctx, g):
        sa, sb = ctx.shapes
        need_a, need_b = ctx.needs_input_grad
        return (unbroadcast(g, sa) if need_a else None), (unbroadcast(g, sb) if need_b else None)


class Sub(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (_shape(a), _shape(b))
        return np.subtract(a, b)

    @staticmethod
    def backward(ctx, g):
        sa, sb = ctx.shapes
        need_a, need_b = ctx.needs_input_grad
        return (unbroadcast(g, sa) if need_a else None), (unbroadcast(-g, sb) if need_b else None)


class Mul(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.multiply(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        return (unbroadcast(g * b, _shape(a)) if need_a else None), (unbroadcast(g * a, _shape(b)) if need_b else None)


class Div(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.true_divide(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        ga = g / b
        return (unbroadcast(ga, _shape(a)) if need_a else None), (unbroadcast(-ga * a / b, _shape(b)) if need_b else None)


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
        ctx.save_for_backward(a)
        ctx.exponent = exponent
        return np.power(a, exponent, dtype=a.dtype)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        p = ctx.exponent
        if p == 2:
            return g * (2 * a)
        return g * (p * np.power(a, p - 1, dtype=a.dtype))


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
        ctx.save_for_backward(a2, b2)
        ctx.shapes = (a.shape, b.shape)
        ctx.squeeze = squeeze
        out = _product(a2, b2)
        return out.squeeze(squeeze) if squeeze else out

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        sa, sb = ctx.shapes
        for axis in sorted(ctx.squeeze, reverse=True):
            g = np.expand_dims(g, axis)
        g = np.ascontiguousarray(g)
        need_a, need_b = ctx.needs_input_grad
        ga = unbroadcast(_product(g, b, trans_b=True), a.shape).reshape(sa) if need_a else None
        gb = unbroadcast(_product(a, g, trans_a=True), b.shape).reshape(sb) if need_b else None
        return ga, gb


def matmul(a, b):
    """``a @ b`` (tensors or arrays), as ``torch.matmul``."""
    return MatMul.apply(a, b)
