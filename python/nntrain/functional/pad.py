"""Constant padding, as ``torch.nn.functional.pad``: ``pad`` lists (before, after) amounts starting from the
last dimension, e.g. (left, right, top, bottom) for an image. The backward crops the padding off again."""

import numbers

import numpy as np

from ..autograd.function import Function


class Pad(Function):
    @staticmethod
    def forward(ctx, x, widths, value=0.0):
        ctx.inside = tuple(slice(before, before + n) for (before, _), n in zip(widths, x.shape))
        return np.pad(x, widths, mode="constant", constant_values=value)

    @staticmethod
    def backward(ctx, g):
        return np.ascontiguousarray(g[ctx.inside])


def pad(input, pad, mode="constant", value=0.0):
    """``input`` with ``value`` added around it: pad = (last_before, last_after, second_last_before, ...)."""
    if mode != "constant":
        raise ValueError(f"pad: only mode='constant' is supported, got {mode!r}")
    ndim = len(np.shape(input))
    if len(pad) % 2 or len(pad) // 2 > ndim or not all(isinstance(p, numbers.Integral) and p >= 0 for p in pad):
        raise ValueError(f"pad: expected an even number (at most {2 * ndim}) of non-negative ints, got {tuple(pad)}")
    widths = [(0, 0)] * ndim
    for i in range(len(pad) // 2):
        widths[ndim - 1 - i] = (int(pad[2 * i]), int(pad[2 * i + 1]))
    return Pad.apply(input, widths=tuple(widths), value=value)
