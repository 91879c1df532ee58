"""The ``reduction`` argument of the losses ('mean', 'sum' or 'none'), written once: the forward reduction
of elementwise losses and its backward, which spreads the incoming gradient back over the elements."""

import numpy as np

REDUCTIONS = ("mean", "sum", "none")


def check_reduction(op, reduction):
    if reduction not in REDUCTIONS:
        raise ValueError(f"{op}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    return reduction


def reduce(values, reduction):
    """values (any shape) -> their mean or sum (0-d, in values' dtype), or values themselves."""
    if reduction == "none":
        return values
    total = values.sum() if reduction == "sum" else values.mean()
    return np.asarray(total, dtype=values.dtype)


def spread(g, shape, reduction):
    """The gradient of reduce(values) w.r.t. values, times g: g itself for 'none', g broadcast for 'sum',
    g / size broadcast for 'mean'."""
    if reduction == "none":
        return g
    if reduction == "mean":
        g = g / max(int(np.prod(shape)), 1)
    return np.broadcast_to(g, shape)


def as_result(loss):
    """Arrays in, a Python float out for a scalar loss (the array API's convention); Tensors stay Tensors."""
    if isinstance(loss, np.ndarray) and loss.ndim == 0:
        return float(loss)
    return loss
