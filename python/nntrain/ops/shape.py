"""Shape changes. Each forward is a NumPy view where one exists (no copy); each backward undoes the change on
the gradient: a reshape reshapes it back, a transpose or permutation applies the inverse permutation, an
expand sums over the stretched axes."""

import numpy as np

from ..autograd.function import Function
from ._broadcast import unbroadcast


class Reshape(Function):
    """reshape / view / flatten / squeeze / unsqueeze: the same elements in another shape."""

    view_of_input = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        try:
            return x.reshape(shape)
        except ValueError:
            if list(shape).count(-1) > 1:
                raise ValueError(f"reshape: only one dimension can be -1 (inferred), got {tuple(shape)}") from None
            raise ValueError(f"reshape: cannot view a tensor of shape {x.shape} ({x.size} elements) as "
                             f"{tuple(shape)}") from None

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.shape)


class Transpose(Function):
    view_of_input = True

    @staticmethod
    def forward(ctx, x, dim0, dim1):
        _axis(dim0, x.ndim, "transpose")
        _axis(dim1, x.ndim, "transpose")
        ctx.dims = (dim0, dim1) if x.ndim else None  # a 0-d tensor is its own transpose
        return np.swapaxes(x, dim0, dim1) if x.ndim else x[...]

    @staticmethod
    def backward(ctx, g):
        return np.swapaxes(g, *ctx.dims) if ctx.dims else g


class Permute(Function):
    view_of_input = True

    @staticmethod
    def forward(ctx, x, dims):
        if sorted(d % max(x.ndim, 1) for d in dims) != list(range(x.ndim)):
            raise ValueError(f"permute: {tuple(dims)} is not a permutation of the {x.ndim} dimensions of {x.shape}")
        ctx.dims = dims
        return np.transpose(x, dims)

    @staticmethod
    def backward(ctx, g):
        return np.transpose(g, np.argsort([d % g.ndim for d in ctx.dims]))


class Expand(Function):
    """A broadcast view to a larger shape (-1 keeps a dimension), as torch.Tensor.expand."""

    view_of_input = True

    @staticmethod
    def forward(ctx, x, shape):
        lead = len(shape) - x.ndim
        if lead < 0:
            raise ValueError(f"expand: shape {tuple(shape)} has fewer dimensions than the tensor's {x.shape}")
        if -1 in shape[:lead]:
            raise ValueError(f"expand: -1 (keep the size) cannot stand for the new leading dimension "
                             f"{list(shape).index(-1)} in {tuple(shape)}")
        target = tuple(x.shape[i - lead] if s == -1 else s for i, s in enumerate(shape))
        ctx.shape = x.shape
        try:
            return np.broadcast_to(x, target)
        except ValueError:
            raise ValueError(f"expand: cannot expand shape {x.shape} to {tuple(shape)}") from None

    @staticmethod
    def backward(ctx, g):
        return unbroadcast(g, ctx.shape)


def _axis(dim, ndim, op, extra=0):
    """dim as a non-negative axis of a tensor of ndim dimensions (+ extra: unsqueeze may name one past the end;
    a 0-d tensor accepts 0 and -1, as in PyTorch)."""
    size = ndim + extra or 1
    if not -size <= dim < size:
        raise IndexError(f"{op}: dimension {dim} is out of range for a tensor of {ndim} dimensions")
    return dim % size


def flatten(x, start_dim=0, end_dim=-1):
    """Merges dims start_dim..end_dim into one."""
    shape = x.shape
    if len(shape) == 0:
        return Reshape.apply(x, shape=(1,))
    start, end = _axis(start_dim, len(shape), "flatten"), _axis(end_dim, len(shape), "flatten")
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    merged = int(np.prod(shape[start:end + 1]))
    return Reshape.apply(x, shape=shape[:start] + (merged,) + shape[end + 1:])


def unsqueeze(x, dim):
    """A new axis of length 1 at dim (dim may be x.ndim, to append)."""
    shape = x.shape
    d = _axis(dim, len(shape), "unsqueeze", extra=1)
    return Reshape.apply(x, shape=shape[:d] + (1,) + shape[d:])


def squeeze(x, dim=None):
    """Drops axes of length 1 (all of them, or dim if it has length 1)."""
    shape = x.shape
    if dim is None:
        return Reshape.apply(x, shape=tuple(s for s in shape if s != 1))
    dims_ = (dim,) if isinstance(dim, int) else tuple(dim)
    drop = {_axis(d, len(shape), "squeeze") for d in dims_}
    return Reshape.apply(x, shape=tuple(s for i, s in enumerate(shape) if not (i in drop and s == 1)))
