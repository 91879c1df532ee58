"""The backward of NumPy broadcasting: a gradient summed back over the axes broadcasting stretched."""

import numpy as np


def unbroadcast(grad, shape):
    """``grad`` (the broadcast result's shape) reduced to ``shape`` by summing over the axes that
    broadcasting added in front or stretched from length 1."""
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1 and grad.shape[lead + i] != 1)
    return np.asarray(grad.sum(axis=axes)).reshape(shape)
