"""Argument helpers shared by the functional ops."""

import numbers


def pair(value, name):
    """``3 -> (3, 3)``; ``(2, 3)`` stays; anything else is a ValueError naming the argument."""
    if isinstance(value, numbers.Integral):
        return (int(value), int(value))
    try:
        a, b = value
        if isinstance(a, numbers.Integral) and isinstance(b, numbers.Integral):
            return (int(a), int(b))
    except (TypeError, ValueError):
        pass
    raise ValueError(f"{name}: expected an int or a pair of ints, got {value!r}")
