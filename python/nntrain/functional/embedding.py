"""Embedding lookup: row ``indices[...]`` of a weight table (num_embeddings, embedding_dim).

    forward:  out[..., :] = weight[indices[...], :]
    backward: dweight[k] = sum of the output gradients of every position that looked up k (np.add.at
              scatter, so an index used twice gets both contributions); the padding_idx row gets none.
"""

import numbers

import numpy as np

from ..autograd.function import Function


class Embedding(Function):
    @staticmethod
    def forward(ctx, indices, weight, padding_idx=None):
        ctx.indices, ctx.shape, ctx.padding_idx = indices, weight.shape, padding_idx
        return weight[indices]

    @staticmethod
    def backward(ctx, g):
        dweight = np.zeros(ctx.shape, dtype=g.dtype)
        np.add.at(dweight, ctx.indices.reshape(-1), g.reshape(-1, ctx.shape[1]))
        if ctx.padding_idx is not None:
            dweight[ctx.padding_idx] = 0
        return None, dweight


def embedding(input, weight, padding_idx=None):
    """Rows of ``weight`` (num_embeddings, embedding_dim) at the integer ``input`` (any shape):
    output input.shape + (embedding_dim,). The ``padding_idx`` row receives no gradient."""
    indices = np.asarray(getattr(input, "data", input))
    if indices.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers, got {indices.dtype}")
    if np.ndim(weight) != 2:
        raise ValueError(f"embedding: weight must be (num_embeddings, embedding_dim), got shape "
                         f"{tuple(np.shape(weight))}")
    count = np.shape(weight)[0]
    if indices.size and (indices.min() < 0 or indices.max() >= count):
        bad = indices.min() if indices.min() < 0 else indices.max()
        raise IndexError(f"embedding: index {bad} is out of range for {count} embeddings")
    if padding_idx is not None:
        if not isinstance(padding_idx, numbers.Integral) or not -count <= padding_idx < count:
            raise ValueError(f"embedding: padding_idx must be an int in [-{count}, {count}), got {padding_idx!r}")
        padding_idx = int(padding_idx) % count
    return Embedding.apply(indices.astype(np.int64, copy=False), weight, padding_idx=padding_idx)
