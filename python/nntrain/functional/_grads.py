"""The gradient-buffer rule of every ``*_backward`` (see the package docstring)."""

import numpy as np


def grad_buffer(given, shape, dtype):
    """Resolve a gradient argument: an array to accumulate into, ``False`` (skip) or ``None`` (new)."""
    if given is None:
        return np.zeros(shape, dtype=dtype)
    if given is False:
        return None
    return given
