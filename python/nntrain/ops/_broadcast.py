"""NumPy broadcasting for the tape: the backward that sums a gradient back over the axes broadcasting
stretched, and the message when two shapes cannot be broadcast."""

import numpy as np


def unbroadcast(grad, shape):
    """``grad`` (the broadcast result's shape) reduced to ``shape`` by summing over the axes that
    broadcasting added in front or stretched from length 1."""
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1 and grad.shape[lead + i] != 1)
    return np.asarray(grad.sum(axis=axes)).reshape(shape)


_NUMBER = ((), None)


def like(x):
    """What a backward needs to hand an input its gradient: its shape, and its dtype when it is an array."""
    if type(x) is np.ndarray:
        return (x.shape, x.dtype)
    if type(x) is float or type(x) is int:
        return _NUMBER  # np.shape(2.0) would build an array to find ()
    return (np.shape(x), None)


def grad_for(grad, input_like):
    """grad reduced to the input's shape and returned in the input's dtype (a float32 tensor added to a
    float64 one gets a float32 gradient, as the float32 kernels before it expect)."""
    shape, dtype = input_like
    grad = unbroadcast(grad, shape)
    return grad if dtype is None or grad.dtype == dtype else grad.astype(dtype)


def broadcast_error(op, sa, sb):
    """The ValueError for shapes that do not broadcast, naming the op, both shapes and the first clash."""
    for i in range(1, min(len(sa), len(sb)) + 1):
        if sa[-i] != sb[-i] and sa[-i] != 1 and sb[-i] != 1:
            return ValueError(f"{op}: shapes {tuple(sa)} and {tuple(sb)} cannot be broadcast together: dimension "
                              f"{-i} is {sa[-i]} in the first and {sb[-i]} in the second (sizes must match or be 1)")
    return ValueError(f"{op}: shapes {tuple(sa)} and {tuple(sb)} cannot be broadcast together")
