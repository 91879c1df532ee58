"""The gradient-buffer rule of every ``*_backward`` (see the package docstring)."""

import numpy as np


def grad_buffer(given, shape, dtype):
    """Resolve a gradient argument: an array to accumulate into, ``False`` (skip) or ``None`` (new)."""
    if given is None:
        return np.zeros(shape, dtype=dtype)
    if given is False:
        return None
    return given


def single_grad(given, shape, dtype, compute):
    """The whole backward of an op with one input: resolve its gradient argument, let ``compute(buffer)``
    accumulate into it unless it is skipped, and return it (None when skipped)."""
    buffer = grad_buffer(given, shape, dtype)
    if buffer is not None:
        compute(buffer)
    return buffer
