"""The gradient-buffer rule of every ``*_backward`` (see the package docstring)."""

import numpy as np


def grad_buffer(given, shape, dtype):
    """Resolve a gradient argument: an array to accumulate into, ``False`` (skip) or ``None`` (new)."""
    if given is None:
        return np.zeros(shape, dtype=dtype)
    if given is False:
        return None
    return given


def written_grad(given, compute):
    """The whole backward of an op with one input whose kernel makes a new gradient itself:
    ``compute(None)`` returns a new array the kernel wrote (no zero-fill pass), ``compute(array)`` adds into
    the array and returns it; ``False`` skips (None)."""
    return None if given is False else compute(given)


def grad_buffers(given, shapes, dtype):
    """Resolve the gradient arguments of one kernel call that computes several: (buffers, accumulate).

    When none is given to accumulate into, the new ones are left uninitialised and the kernel writes them
    (accumulate=False: no zero-fill pass). When any is given, the kernel adds into all of them, so the new
    ones start at zero.
    """
    accumulate = any(g is not None and g is not False for g in given)
    new = np.zeros if accumulate else np.empty
    return [new(shape, dtype=dtype) if g is None else (None if g is False else g)
            for g, shape in zip(given, shapes)], accumulate
