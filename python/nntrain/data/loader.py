"""Feeding a Dataset to a model: batches, a validation split, input normalisation, one-hot labels."""

import math

import numpy as np

from .dataset import Dataset, DataSplits


class DataLoader:
    """Iterates a Dataset as (x, y) batches: contiguous float32 x (B, ...) and int64 y (B,).

    With ``shuffle``, each epoch takes a new permutation from one generator made from ``seed`` (an int or a
    numpy Generator), so the seed fixes the order of every epoch of a run. A batch is gathered by one fancy
    index of the permutation — no per-example Python work.

    ``state_dict()`` records the generator's state and the position in the current epoch;
    ``load_state_dict()`` on a fresh loader over the same data resumes with exactly the batches the
    original would have produced next, even mid-epoch.
    """

    def __init__(self, dataset: Dataset, batch_size=64, shuffle=False, drop_last=False, seed=0):
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive integer, got {batch_size!r}")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        self.epoch = 0  # epochs completed
        self._epoch_rng_state = None  # generator state before this epoch's permutation; None between epochs
        self._position = 0  # batches of the current epoch already handed out
        self._resume_at = 0

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self):
        start_state = self.rng.bit_generator.state
        order = self.rng.permutation(len(self.dataset)) if self.shuffle else None
        first, self._resume_at = self._resume_at, 0
        self._epoch_rng_state, self._position = start_state, first
        x, y, bs = self.dataset.x, self.dataset.y, self.batch_size
        for b in range(first, len(self)):
            if order is None:
                xb, yb = x[b * bs:(b + 1) * bs], y[b * bs:(b + 1) * bs]  # a slice of C-contiguous rows
            else:
                index = order[b * bs:(b + 1) * bs]
                xb, yb = x[index], y[index]
            self._position = b + 1
            yield xb, yb
        self.epoch += 1
        self._epoch_rng_state, self._position = None, 0

    def state_dict(self) -> dict:
        """Epochs completed, the generator state to draw the next (or current) epoch from, batches done."""
        epoch, state, position = self.epoch, self.rng.bit_generator.state, 0
        if self._epoch_rng_state is not None:
            # Mid-epoch (the last batch included, until the loop asks for more): redraw this epoch's order
            # and skip what was done. A resumed loop then finishes this epoch -- with no batches if all
            # were out -- before the next one starts, as the original loop would have.
            state, position = self._epoch_rng_state, self._position
        return {"epoch": epoch, "rng_state": _copy_state(state), "batch": position}

    def load_state_dict(self, state: dict) -> None:
        self.epoch = int(state["epoch"])
        self.rng.bit_generator.state = _copy_state(state["rng_state"])
        self._resume_at = int(state.get("batch", 0))
        if not 0 <= self._resume_at <= len(self):
            raise ValueError(f"DataLoader.load_state_dict: batch {self._resume_at} is outside 0..{len(self)}")
        self._epoch_rng_state, self._position = None, 0


def split(dataset: Dataset, val_fraction, seed=0):
    """(train, val): a random ``val_fraction`` of the examples (order from ``seed``) held out as val.

    Both parts keep the examples in their original relative order.
    """
    if not isinstance(val_fraction, (float, int)) or isinstance(val_fraction, bool) or not 0 < val_fraction < 1:
        raise ValueError(f"split: val_fraction must be in (0, 1), got {val_fraction!r}")
    n = len(dataset)
    n_val = int(round(n * val_fraction))
    if not 1 <= n_val <= n - 1:
        raise ValueError(f"split: val_fraction {val_fraction} of {n} examples leaves an empty part")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    order = rng.permutation(n)
    val_index, train_index = np.sort(order[:n_val]), np.sort(order[n_val:])
    return (dataset.subset(train_index, dataset.name + "/train"),
            dataset.subset(val_index, dataset.name + "/val"))


class Normalizer:
    """Per-channel standardisation, x' = (x − mean[c]) / std[c], with statistics from the training set.

    The channel axis is axis 1 of x (N, C, ...); for flat x (N, F) each feature is a channel. Channels with
    zero spread (e.g. an always-blank border pixel) get std 1 so they pass through centred, not divided by
    zero. ``mean`` and ``std`` are float32 arrays (C,) to save with a model.
    """

    CHUNK = 4096  # examples per step: bounds the float64 temporaries when fitting on large sets

    def __init__(self, mean, std):
        self.mean = np.asarray(mean, dtype=np.float32).reshape(-1)
        self.std = np.asarray(std, dtype=np.float32).reshape(-1)
        if self.mean.shape != self.std.shape:
            raise ValueError(f"Normalizer: mean {self.mean.shape} and std {self.std.shape} differ in shape")
        if not (self.std > 0).all():
            raise ValueError("Normalizer: every std must be positive")

    @classmethod
    def fit(cls, dataset: Dataset) -> "Normalizer":
        x = dataset.x
        if x.ndim < 2 or len(x) == 0:
            raise ValueError(f"Normalizer.fit: need x of shape (N, C, ...) with N > 0, got {x.shape}")
        axes = (0,) + tuple(range(2, x.ndim))
        count = x.size // x.shape[1]
        # Two passes in float64 (mean, then squared deviations) — numerically sound, chunked for memory.
        total = sum(x[i:i + cls.CHUNK].sum(axis=axes, dtype=np.float64) for i in range(0, len(x), cls.CHUNK))
        mean = total / count
        shape = (1, -1) + (1,) * (x.ndim - 2)
        squares = sum(np.square(x[i:i + cls.CHUNK] - mean.reshape(shape)).sum(axis=axes)
                      for i in range(0, len(x), cls.CHUNK))
        std = np.sqrt(squares / count)
        return cls(mean, np.where(std > 1e-8, std, 1.0))

    def __call__(self, dataset: Dataset) -> Dataset:
        x = dataset.x
        if x.ndim < 2 or x.shape[1] != len(self.mean):
            raise ValueError(f"Normalizer: fitted on {len(self.mean)} channels, got x of shape {x.shape}")
        shape = (1, -1) + (1,) * (x.ndim - 2)
        x = (x - self.mean.reshape(shape)) / self.std.reshape(shape)
        return Dataset(x, dataset.y, dataset.classes, dataset.name, dataset.class_names)

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


def one_hot(labels, classes) -> np.ndarray:
    """float32 (N, classes) with a 1 in each row at its label."""
    labels = np.asarray(labels)
    if labels.ndim != 1 or (labels.size and labels.dtype.kind not in "iu"):
        raise ValueError(f"one_hot: labels must be a 1-D integer array, got {labels.dtype} {labels.shape}")
    bad = np.flatnonzero((labels < 0) | (labels >= classes))
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"one_hot: label {labels[i]} at index {i} is outside [0, {classes})")
    out = np.zeros((len(labels), classes), dtype=np.float32)
    out[np.arange(len(labels)), labels.astype(np.intp)] = 1
    return out


def _copy_state(state):
    # A generator state is a dict of ints and nested dicts; copying keeps saved states from aliasing.
    return {k: _copy_state(v) if isinstance(v, dict) else v for k, v in state.items()}
