"""Per-channel standardisation of inputs, with statistics from the training set."""

from dataclasses import replace

import numpy as np

from .dataset import ArrayDataset, DataSplits

CHUNK_ELEMENTS = 1 << 21  # values per chunk of examples: bounds the float64 temporaries of fitting


def chunk_examples(example_size) -> int:
    """Examples per chunk when fitting: the same rule for arrays and for images streamed from files, so
    both give the same statistics to the last bit."""
    return max(1, CHUNK_ELEMENTS // max(1, int(example_size)))


def channel_stats(chunks):
    """(mean, std) per channel, float64 (C,), over chunks of examples (N_i, C, ...) given one by one.

    Each chunk's mean and sum of squared deviations are computed in float64 and merged (Chan, Golub and
    LeVeque), so one pass suffices: the data may be streamed from files and never held whole.
    """
    count, mean, squares = 0, None, None
    for x in chunks:
        x = np.asarray(x)
        if x.ndim < 2:
            raise ValueError(f"Normalizer.fit: need x of shape (N, C, ...), got {x.shape}")
        n = x.size // x.shape[1] if x.shape[1] else 0
        if n == 0:
            continue
        axes = (0,) + tuple(range(2, x.ndim))
        shape = (1, -1) + (1,) * (x.ndim - 2)
        m = x.sum(axis=axes, dtype=np.float64) / n
        s = np.square(x - m.reshape(shape)).sum(axis=axes)
        if mean is None:
            count, mean, squares = n, m, s
        else:
            total = count + n
            delta = m - mean
            mean = mean + delta * (n / total)
            squares = squares + s + np.square(delta) * (count * n / total)
            count = total
    if mean is None:
        raise ValueError("Normalizer.fit: no examples")
    return mean, np.sqrt(squares / count)


class Normalizer:
    """Per-channel standardisation, x' = (x − mean[c]) / std[c], with statistics from the training set.

    The channel axis is axis 1 of x (N, C, ...); for flat x (N, F) each feature is a channel. Channels with
    zero spread (e.g. an always-blank border pixel) get std 1 so they pass through centred, not divided by
    zero. ``mean`` and ``std`` are float32 arrays (C,) to save with a model.
    """

    def __init__(self, mean, std):
        self.mean = np.asarray(mean, dtype=np.float32).reshape(-1)
        self.std = np.asarray(std, dtype=np.float32).reshape(-1)
        if self.mean.shape != self.std.shape:
            raise ValueError(f"Normalizer: mean {self.mean.shape} and std {self.std.shape} differ in shape")
        if not (self.std > 0).all():
            raise ValueError("Normalizer: every std must be positive")

    @classmethod
    def fit(cls, dataset: ArrayDataset) -> "Normalizer":
        x = dataset.x
        if x.ndim < 2 or len(x) == 0:
            raise ValueError(f"Normalizer.fit: need x of shape (N, C, ...) with N > 0, got {x.shape}")
        step = chunk_examples(x[0].size)
        return cls.fit_chunks(x[i:i + step] for i in range(0, len(x), step))

    @classmethod
    def fit_chunks(cls, chunks) -> "Normalizer":
        """Fitted on examples given in chunks (N_i, C, ...) of ``chunk_examples`` examples (the last fewer)."""
        mean, std = channel_stats(chunks)
        return cls(mean, np.where(std > 1e-8, std, 1.0))

    @classmethod
    def from_counts(cls, counts) -> "Normalizer":
        """Fitted on 8-bit images fed as x = value / 255, from ``counts[c, v]``: how many pixels of channel c
        hold value v. Exact sums of exact products, so any order of counting gives the same statistics."""
        counts = np.asarray(counts, dtype=np.float64)
        values = (np.arange(counts.shape[1], dtype=np.float32) / 255).astype(np.float64)  # as ToArray makes them
        pixels = counts.sum(axis=1)
        if not (pixels > 0).all():
            raise ValueError("Normalizer.from_counts: no pixels counted")
        mean = (counts * values).sum(axis=1) / pixels
        std = np.sqrt((counts * np.square(values - mean[:, None])).sum(axis=1) / pixels)
        return cls(mean, np.where(std > 1e-8, std, 1.0))

    def apply(self, x: np.ndarray) -> np.ndarray:
        """x (N, C, ...) standardised: float32."""
        if x.ndim < 2 or x.shape[1] != len(self.mean):
            raise ValueError(f"Normalizer: fitted on {len(self.mean)} channels, got x of shape {x.shape}")
        shape = (1, -1) + (1,) * (x.ndim - 2)
        return (x - self.mean.reshape(shape)) / self.std.reshape(shape)

    def __call__(self, dataset: ArrayDataset) -> ArrayDataset:
        return replace(dataset, x=self.apply(dataset.x))

    def state_dict(self) -> dict:
        return {"mean": self.mean.copy(), "std": self.std.copy()}

    @classmethod
    def from_state_dict(cls, state: dict) -> "Normalizer":
        return cls(state["mean"], state["std"])


def normalise(splits: DataSplits, normalizer=None):
    """(normalised splits, the Normalizer): fitted on ``splits.train`` unless given, applied to every split."""
    normalizer = normalizer or Normalizer.fit(splits.train)
    parts = {k: normalizer(d) for k, d in splits.parts().items()}
    return DataSplits(name=splits.name, **parts), normalizer
