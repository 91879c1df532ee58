"""Reductions over all elements or over ``dim`` (an int or a tuple), with ``keepdim`` as in PyTorch.

    sum:  the gradient is g broadcast back over the reduced axes
    mean: the same divided by the number of elements reduced
    max/min along dim: g goes to the position of the chosen element (the first, as argmax picks it)
    amax/amin: g shared equally among the elements equal to the extreme (ties split, as in PyTorch)
"""

import numpy as np

from ..autograd.function import Function


def dims(dim, ndim):
    """None (all), an int or a sequence of ints -> a tuple of non-negative axes, or None."""
    if dim is None:
        return None
    axes = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    out = []
    for d in axes:
        d = int(d)
        if not -max(ndim, 1) <= d < max(ndim, 1):
            raise IndexError(f"dimension {d} is out of range for a tensor of {ndim} dimensions")
        out.append(d % max(ndim, 1))
    return tuple(out) if ndim else None  # a 0-d tensor's dim 0 is the whole tensor


def _expand_back(g, shape, axes, keepdim):
    """g reshaped so it broadcasts against the input (the reduced axes as length 1)."""
    if axes is None:
        return np.reshape(g, (1,) * len(shape))
    if not keepdim:
        for axis in sorted(axes):
            g = np.expand_dims(g, axis)
    return g


class Sum(Function):
    @staticmethod
    def forward(ctx, x, dim=None, keepdim=False):
        ctx.shape, ctx.dim, ctx.keepdim = x.shape, dim, keepdim
        return np.asarray(x.sum(axis=dim, keepdims=keepdim))

    @staticmethod
    def backward(ctx, g):
        return np.broadcast_to(_expand_back(g, ctx.shape, ctx.dim, ctx.keepdim), ctx.shape).copy()


class Mean(Function):
    @staticmethod
    def forward(ctx, x, dim=None, keepdim=False):
        if x.dtype.kind != "f":
            raise TypeError(f"mean: needs a floating-point tensor, got {x.dtype}")
        ctx.shape, ctx.dim, ctx.keepdim = x.shape, dim, keepdim
        ctx.count = x.size if dim is None else int(np.prod([x.shape[d] for d in dim]))
        return np.asarray(x.mean(axis=dim, keepdims=keepdim))

    @staticmethod
    def backward(ctx, g):
        g = _expand_back(g, ctx.shape, ctx.dim, ctx.keepdim) / ctx.count
        return np.broadcast_to(g, ctx.shape).copy()


class MaxAlong(Function):
    """(values, indices) of the largest (or smallest) element along one dim."""

    @staticmethod
    def forward(ctx, x, dim, keepdim=False, largest=True):
        axes = dims(dim, x.ndim)
        if axes is None:  # a 0-d tensor is its own maximum along dim 0 (or -1)
            ctx.axis = None
            return x.copy(), np.zeros((), dtype=np.int64)
        axis = axes[0]
        if x.shape[axis] == 0:
            raise IndexError(f"max: dimension {axis} of shape {x.shape} is empty")
        index = (np.argmax if largest else np.argmin)(x, axis=axis, keepdims=True)
        values = np.take_along_axis(x, index, axis=axis)
        ctx.shape, ctx.axis, ctx.keepdim = x.shape, axis, keepdim
        ctx.index = index
        if not keepdim:
            values, index = values.squeeze(axis), index.squeeze(axis)
        return values, index.astype(np.int64, copy=False)

    @staticmethod
    def backward(ctx, g, _indices_grad=None):
        if g is None:
            return None
        if ctx.axis is None:
            return g
        if not ctx.keepdim:
            g = np.expand_dims(g, ctx.axis)
        dx = np.zeros(ctx.shape, dtype=g.dtype)
        np.put_along_axis(dx, ctx.index, g, axis=ctx.axis)
        return dx


class Amax(Function):
    @staticmethod
    def forward(ctx, x, dim=None, keepdim=False, largest=True):
        if x.size == 0:
            raise ValueError("amax: the tensor is empty")
        y = np.asarray((np.amax if largest else np.amin)(x, axis=dim, keepdims=keepdim))
        ctx.save_for_backward(x, y)
        ctx.dim, ctx.keepdim = dim, keepdim
        return y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        y = _expand_back(y, x.shape, ctx.dim, ctx.keepdim)
        g = _expand_back(g, x.shape, ctx.dim, ctx.keepdim)
        hit = x == y
        count = hit.sum(axis=ctx.dim, keepdims=True)
        return np.where(hit, g / count, 0).astype(x.dtype, copy=False)


def arg_extreme(x, dim, keepdim, arg):
    """argmax / argmin (no gradient): over the flattened tensor without dim, as torch.argmax."""
    if dim is None:
        return np.asarray(arg(x), dtype=np.int64)
    axes = dims(dim, x.ndim)
    return np.asarray(arg(x, axis=None if axes is None else axes[0], keepdims=keepdim), dtype=np.int64)
