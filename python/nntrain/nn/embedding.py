"""Embedding: a table of num_embeddings vectors of embedding_dim, looked up by integer index."""

import numpy as np

from .. import functional as F
from . import init
from .module import Module, Parameter


class Embedding(Module):
    """``layer(indices)`` (integers of any shape) -> the rows of ``weight`` (num_embeddings, embedding_dim):
    output indices.shape + (embedding_dim,). The ``padding_idx`` row starts at zero and is never trained."""

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, *, rng=None, dtype=np.float32):
        super().__init__()
        if num_embeddings < 1 or embedding_dim < 1:
            raise ValueError(f"Embedding: sizes must be >= 1, got num_embeddings={num_embeddings}, "
                             f"embedding_dim={embedding_dim}")
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"Embedding: padding_idx must be within [-{num_embeddings}, {num_embeddings}), "
                                 f"got {padding_idx}")
            padding_idx = int(padding_idx) % num_embeddings
        self.num_embeddings, self.embedding_dim = int(num_embeddings), int(embedding_dim)
        self.padding_idx = padding_idx
        self.weight = Parameter(np.empty((num_embeddings, embedding_dim), dtype=dtype))
        self.reset_parameters(rng)

    def reset_parameters(self, rng=None):
        """PyTorch's default: N(0, 1), the padding row zero."""
        init.normal_(self.weight, 0.0, 1.0, rng)
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None):
        """An Embedding holding a copy of ``embeddings`` (num_embeddings, embedding_dim); frozen by default."""
        embeddings = np.asarray(getattr(embeddings, "data", embeddings))
        if embeddings.ndim != 2:
            raise ValueError(f"Embedding.from_pretrained: embeddings must be 2-D, got shape {embeddings.shape}")
        layer = cls(*embeddings.shape, padding_idx=padding_idx, dtype=embeddings.dtype)
        layer.weight.data[...] = embeddings
        layer.weight.requires_grad_(not freeze)
        return layer

    def forward(self, indices):
        return F.embedding(indices, self.weight, self.padding_idx)

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        return s + (f", padding_idx={self.padding_idx}" if self.padding_idx is not None else "")
