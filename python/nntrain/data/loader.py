"""Feeding a data set to a model: batches (in order or shuffled, optionally fetched ahead by workers),
a validation split, one-hot labels."""

import copy
import math

import numpy as np

from .collate import default_collate
from .dataset import ArrayDataset, Dataset, Subset
from .sample_rng import set_sample_key
from .workers import WORKER_TYPES, prefetched


class DataLoader:
    """Iterates a map-style data set as batches; for an ArrayDataset, (x, y) with contiguous float32 x
    (B, ...) and int64 y (B,).

    With ``shuffle``, each epoch takes a new permutation from one generator made from ``seed`` (an int or a
    numpy Generator), so the seed fixes the order of every epoch of a run. From an ArrayDataset without a
    transform (or a Subset of one) a batch is gathered by one fancy index — no per-example Python work;
    from any other data set, examples ``dataset[i]`` are put together by ``collate_fn`` (default: stack
    arrays, numbers and tuples of them, as PyTorch does).

    ``num_workers`` > 0 fetches batches ahead of the training step in that many worker processes (or
    threads, ``worker_type="thread"``), each holding up to ``prefetch_factor`` batches; the batches come in
    the same order, with the same contents, as with no workers. A random transform draws from
    ``transforms.sample_rng()``, seeded by (seed, epoch, index) of the example, so augmentation too is the
    same with any number of workers.

    ``state_dict()`` records the generator's state and the position in the current epoch;
    ``load_state_dict()`` on a fresh loader over the same data resumes with exactly the batches the
    original would have produced next, even mid-epoch.
    """

    def __init__(self, dataset: Dataset, batch_size=64, shuffle=False, drop_last=False, seed=0, *, collate_fn=None,
                 num_workers=0, worker_type="process", prefetch_factor=2):
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive integer, got {batch_size!r}")
        if isinstance(num_workers, bool) or not isinstance(num_workers, (int, np.integer)) or num_workers < 0:
            raise ValueError(f"DataLoader: num_workers must be a non-negative integer, got {num_workers!r}")
        if worker_type not in WORKER_TYPES:
            raise ValueError(f"DataLoader: worker_type must be one of {', '.join(WORKER_TYPES)}, got {worker_type!r}")
        if isinstance(prefetch_factor, bool) or not isinstance(prefetch_factor, (int, np.integer)) \
                or prefetch_factor < 1:
            raise ValueError(f"DataLoader: prefetch_factor must be a positive integer, got {prefetch_factor!r}")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.collate_fn = collate_fn
        self.num_workers, self.worker_type, self.prefetch_factor = int(num_workers), worker_type, int(prefetch_factor)
        self.rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        # The per-example seed: the int itself, or drawn from a copy of a given generator (which it leaves
        # untouched, so the shuffling order does not depend on whether examples are augmented).
        self.sample_seed = int(copy.deepcopy(seed).integers(2 ** 63)) if isinstance(seed, np.random.Generator) \
            else int(seed)
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
        n, bs = len(self.dataset), self.batch_size
        batches = [range(b * bs, min((b + 1) * bs, n)) if order is None else order[b * bs:(b + 1) * bs]
                   for b in range(first, len(self))]
        produced = self._produce(batches)
        try:
            for b, batch in enumerate(produced, start=first):
                self._position = b + 1
                yield batch
        finally:
            produced.close()
        self.epoch += 1
        self._epoch_rng_state, self._position = None, 0

    def _produce(self, batches):
        arrays = _arrays_of(self.dataset) if self.collate_fn is None else None
        if arrays is not None:
            x, y, index = arrays
            for batch in batches:
                if index is None and isinstance(batch, range):  # a slice of C-contiguous rows: no copy
                    yield x[batch.start:batch.stop], y[batch.start:batch.stop]
                else:
                    rows = batch if index is None else index[np.asarray(batch)]
                    yield x[rows], y[rows]
            return
        fetch = _Fetch(self.dataset, self.collate_fn or default_collate, self.sample_seed, self.epoch)
        if self.num_workers == 0:
            yield from map(fetch, batches)
        else:
            yield from prefetched(fetch, batches, self.num_workers, self.worker_type, self.prefetch_factor)

    def state_dict(self) -> dict:
        """Epochs completed, the generator state to draw the next (or current) epoch from, batches done."""
        epoch, state, position = self.epoch, self.rng.bit_generator.state, 0
        if self._epoch_rng_state is not None:
            # Mid-epoch (the last batch included, until the loop asks for more): redraw this epoch's order
            # and skip what was done. A resumed loop then finishes this epoch -- with no batches if all
            # were out -- before the next one starts, as the original loop would have.
            state, position = self._epoch_rng_state, self._position
        return {"epoch": epoch, "rng_state": _copy_state(state), "batch": position, "sample_seed": self.sample_seed}

    def load_state_dict(self, state: dict) -> None:
        self.epoch = int(state["epoch"])
        self.rng.bit_generator.state = _copy_state(state["rng_state"])
        self.sample_seed = int(state.get("sample_seed", self.sample_seed))
        self._resume_at = int(state.get("batch", 0))
        if not 0 <= self._resume_at <= len(self):
            raise ValueError(f"DataLoader.load_state_dict: batch {self._resume_at} is outside 0..{len(self)}")
        self._epoch_rng_state, self._position = None, 0


class _Fetch:
    """One batch from the data set: each example fetched under its own random key, then collated."""

    def __init__(self, dataset, collate_fn, seed, epoch):
        self.dataset, self.collate_fn, self.seed, self.epoch = dataset, collate_fn, seed, epoch

    def __call__(self, indices):
        examples = []
        try:
            for i in indices:
                i = int(i)
                set_sample_key((self.seed, self.epoch, i))
                examples.append(self.dataset[i])
        finally:
            set_sample_key(None)
        return self.collate_fn(examples)


def _arrays_of(dataset):
    """(x, y, index map or None) when batches can be gathered straight from arrays, else None."""
    index = None
    while isinstance(dataset, Subset):
        index = dataset.indices if index is None else dataset.indices[index]
        dataset = dataset.dataset
    if type(dataset) is ArrayDataset and dataset.transform is None:
        return dataset.x, dataset.y, index
    return None


def split(dataset: Dataset, val_fraction, seed=0, names=("train", "val")):
    """(train, val): a random ``val_fraction`` of the examples (order from ``seed``) held out as val.

    Both parts keep the examples in their original relative order: copies for an ArrayDataset (named
    ``<name>/train`` and ``<name>/val``, or after ``names``), Subsets of any other data set.
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
    if not isinstance(dataset, ArrayDataset):
        return Subset(dataset, train_index), Subset(dataset, val_index)
    return (dataset.subset(train_index, f"{dataset.name}/{names[0]}"),
            dataset.subset(val_index, f"{dataset.name}/{names[1]}"))


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
