"""Indexing, assignment into a slice, and joining/splitting along a dim.

    x[index]        backward scatters g back into zeros of x's shape (np.add.at, so an element picked twice
                    by an integer-array index gets both contributions)
    cat / stack     backward hands each input its slice of g
    split / chunk   backward concatenates the pieces' gradients (zeros for a piece that got none)
"""

import numbers

import numpy as np

from ..autograd.function import Function
from ._broadcast import grad_for, like


def _is_basic(index):
    """Ints, slices, None and Ellipsis only: NumPy returns a view and never repeats an element."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(isinstance(p, (numbers.Integral, slice)) or p is None or p is Ellipsis for p in parts)


def plain_index(index):
    """An index with every Tensor in it replaced by its array."""
    from .._tensor import Tensor

    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(p.data if isinstance(p, Tensor) else p for p in index)
    if isinstance(index, list) and any(isinstance(p, Tensor) for p in index):
        return [p.data if isinstance(p, Tensor) else p for p in index]
    return index


class GetItem(Function):
    view_of_input = True

    @staticmethod
    def forward(ctx, x, index):
        ctx.shape, ctx.dtype, ctx.index = x.shape, x.dtype, index
        try:
            out = x[index]
        except IndexError as e:
            raise IndexError(f"index {index!r} does not fit a tensor of shape {x.shape}: {e}") from None
        return np.asarray(out)

    @staticmethod
    def backward(ctx, g):
        dx = np.zeros(ctx.shape, dtype=g.dtype)
        if _is_basic(ctx.index):
            dx[ctx.index] = g
        else:
            np.add.at(dx, ctx.index, g)
        return dx


class IndexPut(Function):
    """``x[index] = value`` out of place: the result is x with the indexed elements replaced. An integer-array
    index may name an element twice; the value written last is the one kept, and only it gets a gradient."""

    @staticmethod
    def forward(ctx, x, value, index):
        out = np.array(x, copy=True)
        out[index] = value
        ctx.index, ctx.value = index, like(value)
        return out

    @staticmethod
    def backward(ctx, g):
        need_x, need_value = ctx.needs_input_grad
        gx = gv = None
        if need_x:
            gx = g.copy()
            gx[ctx.index] = 0
        if need_value:
            picked = np.asarray(g[ctx.index])
            if not _is_basic(ctx.index):
                picked = picked * _kept_writes(g.shape, ctx.index, picked.shape)
            gv = grad_for(picked, ctx.value)
        return gx, gv


def _kept_writes(shape, index, picked_shape):
    """Which of the writes ``a[index] = v`` (one per element of a[index]) survive: repeat the same assignment
    with each write's own number and see which numbers stay."""
    numbers = np.arange(int(np.prod(picked_shape)), dtype=np.int64).reshape(picked_shape)
    marks = np.full(shape, -1, dtype=np.int64)
    marks[index] = numbers
    return marks[index] == numbers


def _dim(dim, ndim, op, inputs="a tensor", extra=0):
    """dim as a non-negative axis of ndim (+ extra, for a new axis) dimensions, or an IndexError naming the op."""
    size = ndim + extra or 1
    if not -size <= dim < size:
        raise IndexError(f"{op}: dimension {dim} is out of range for {inputs} of {ndim} dimensions")
    return dim % size


def _in_dtype(g, dtype):
    return g if g.dtype == dtype else g.astype(dtype)


def _cat_error(arrays, axis):
    shapes = ", ".join(str(a.shape) for a in arrays)
    first = arrays[0]
    for i, a in enumerate(arrays[1:], 1):
        if a.ndim != first.ndim:
            return ValueError(f"cat: tensors of shapes {shapes} have different numbers of dimensions "
                              f"({first.ndim} and {a.ndim}, tensor {i})")
        for d in range(first.ndim):
            if d != axis and a.shape[d] != first.shape[d]:
                return ValueError(f"cat: tensors of shapes {shapes} must match except in dim {axis}: dim {d} has "
                                  f"size {first.shape[d]} in tensor 0 but size {a.shape[d]} in tensor {i}")
    return ValueError(f"cat: tensors of shapes {shapes} cannot be joined along dim {axis}")


class Cat(Function):
    @staticmethod
    def forward(ctx, *arrays, dim=0):
        if not arrays:
            raise ValueError("cat: expected a non-empty sequence of tensors")
        axis = _dim(dim, arrays[0].ndim, "cat", "tensors")
        try:
            out = np.concatenate(arrays, axis=axis)
        except ValueError:
            raise _cat_error(arrays, axis) from None
        ctx.axis, ctx.bounds = axis, np.cumsum([a.shape[axis] for a in arrays])[:-1]
        ctx.dtypes = [a.dtype for a in arrays]
        return out

    @staticmethod
    def backward(ctx, g):
        return tuple(_in_dtype(piece, dtype) for piece, dtype in zip(np.split(g, ctx.bounds, axis=ctx.axis), ctx.dtypes))


class Stack(Function):
    @staticmethod
    def forward(ctx, *arrays, dim=0):
        if not arrays:
            raise ValueError("stack: expected a non-empty sequence of tensors")
        axis = _dim(dim, arrays[0].ndim, "stack", "tensors", extra=1)
        if len({a.shape for a in arrays}) != 1:
            shapes = ", ".join(str(a.shape) for a in arrays)
            raise ValueError(f"stack: expects tensors of one shape, got {shapes}")
        ctx.axis = axis
        ctx.dtypes = [a.dtype for a in arrays]
        return np.stack(arrays, axis=axis)

    @staticmethod
    def backward(ctx, g):
        return tuple(_in_dtype(np.take(g, i, axis=ctx.axis), dtype) for i, dtype in enumerate(ctx.dtypes))


class Split(Function):
    """Pieces of x along dim; every piece is an output of this one call."""

    view_of_input = True

    @staticmethod
    def forward(ctx, x, sizes, dim):
        axis = _dim(dim, x.ndim, "split")
        ctx.shape, ctx.axis, ctx.sizes = x.shape, axis, sizes
        return tuple(np.split(x, np.cumsum(sizes)[:-1], axis=axis))

    @staticmethod
    def backward(ctx, *grads):
        pieces = []
        for size, g in zip(ctx.sizes, grads):
            if g is None:
                shape = list(ctx.shape)
                shape[ctx.axis] = size
                dtype = next(x.dtype for x in grads if x is not None)
                g = np.zeros(shape, dtype=dtype)
            pieces.append(g)
        return np.concatenate(pieces, axis=ctx.axis)


def cat(tensors, dim=0):
    """Joins tensors along an existing dim, as torch.cat."""
    return Cat.apply(*tensors, dim=dim)


def stack(tensors, dim=0):
    """Joins tensors of one shape along a new dim, as torch.stack."""
    return Stack.apply(*tensors, dim=dim)


def split(x, split_size_or_sections, dim=0):
    """Pieces of split_size along dim (the last may be smaller), or of the listed sizes, as torch.split."""
    length = x.shape[_dim(dim, x.ndim, "split")]
    if isinstance(split_size_or_sections, numbers.Integral):
        size = int(split_size_or_sections)
        if size < 1:
            raise ValueError(f"split: split_size must be >= 1, got {size}")
        sizes = [size] * (length // size) + ([length % size] if length % size else []) or [0]  # one empty piece
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if sum(sizes) != length:
            raise ValueError(f"split: sizes {sizes} do not add up to the length {length} of dim {dim}")
    return Split.apply(x, sizes=sizes, dim=dim)


def chunk(x, chunks, dim=0):
    """At most ``chunks`` pieces of equal size (the last smaller), as torch.chunk."""
    if chunks < 1:
        raise ValueError(f"chunk: chunks must be >= 1, got {chunks}")
    length = x.shape[_dim(dim, x.ndim, "chunk")]
    return split(x, max(-(-length // chunks), 1), dim)
