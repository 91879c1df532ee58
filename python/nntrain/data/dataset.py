"""Map-style data sets: the ``Dataset`` protocol, in-memory arrays, subsets and random splits.

A map-style data set answers ``len(ds)`` and ``ds[i]`` for 0 <= i < len(ds), as in PyTorch and Paddle;
``DataLoader`` turns one into batches. ``ArrayDataset`` holds two arrays and is what every reader of files
in this package returns; ``DataSplits`` groups the train/val/test parts of one data set.
"""

from dataclasses import dataclass, field, replace
from typing import Callable, List, Optional

import numpy as np

from .errors import DataError


class Dataset:
    """The base of map-style data sets: subclasses define ``__getitem__(index)`` and ``__len__()``.

    ``__getitem__`` returns one example, usually ``(input, label)``; ``DataLoader`` stacks examples into
    batches. A random transform inside ``__getitem__`` that draws from ``transforms.sample_rng()`` gets a
    generator seeded by (the loader's seed, the epoch, the index), so runs repeat and resume exactly.
    """

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __len__")


@dataclass
class ArrayDataset(Dataset):
    """N labelled examples held as two arrays (PyTorch's TensorDataset role).

    ``x`` is float32, C-contiguous, shape (N, ...) — images are (N, C, H, W); ``y`` is int64, shape (N,),
    each label in [0, classes) (``classes`` defaults to max(y) + 1). Construction checks all of this (and
    that ``x`` is finite) and raises DataError naming ``name``, so an ArrayDataset that exists is one a model
    can train on. ``ds[i]`` is ``(transform(x[i]), y[i])``; without a transform DataLoader takes whole
    batches with one fancy index instead of example by example.

    With ``regression=True``, ``y`` holds float targets instead: float32 (N, D) (a (N,) y becomes (N, 1)),
    finite, and ``classes`` is the number of outputs D a model must have.
    """

    x: np.ndarray
    y: np.ndarray
    classes: Optional[int] = None
    name: str = "dataset"
    class_names: Optional[List[str]] = None
    transform: Optional[Callable] = None
    regression: bool = False

    def __post_init__(self):
        # Converting here (not in every reader) keeps the guarantee in one place; no copy when already right.
        with np.errstate(over="ignore"):  # values beyond float32 become inf and fail the finiteness check
            self.x = np.asarray(self.x, dtype=np.float32, order="C")  # 0-d stays 0-d for the check below
        y = np.asarray(self.y)
        if self.regression:
            self._check_targets(y)
            return
        if y.dtype.kind not in "iu" and y.size:
            raise DataError(f"{self.name}: labels must be integers, got dtype {y.dtype}")
        self.y = np.asarray(y, dtype=np.int64, order="C")  # a 0-d y stays 0-d, for the shape check below
        if self.classes is None:
            self.classes = int(self.y.max()) + 1 if self.y.size and self.y.max() >= 0 else 1
        if isinstance(self.classes, bool) or not isinstance(self.classes, (int, np.integer)) or self.classes < 1:
            raise DataError(f"{self.name}: classes must be a positive integer, got {self.classes!r}")
        self.classes = int(self.classes)
        if self.x.ndim < 1:
            raise DataError(f"{self.name}: x must have a leading example axis, got a scalar")
        if self.y.ndim != 1:
            raise DataError(f"{self.name}: y must have shape (N,), got {self.y.shape}")
        if len(self.x) != len(self.y):
            raise DataError(f"{self.name}: {len(self.x)} inputs but {len(self.y)} labels")
        bad = np.flatnonzero((self.y < 0) | (self.y >= self.classes))
        if bad.size:
            i = int(bad[0])
            raise DataError(f"{self.name}: label {self.y[i]} at index {i} is outside [0, {self.classes})")
        if not np.isfinite(self.x).all():
            i = first_non_finite_example(self.x)
            raise DataError(f"{self.name}: x holds a non-finite value (NaN or Inf) in example {i}")
        if self.class_names is not None:
            self.class_names = [str(c) for c in self.class_names]
            if len(self.class_names) != self.classes:
                raise DataError(
                    f"{self.name}: {len(self.class_names)} class names for {self.classes} classes")

    def _check_targets(self, y):
        if y.dtype.kind not in "fiu" or y.dtype == np.bool_:
            raise DataError(f"{self.name}: regression targets must be numbers, got dtype {y.dtype}")
        if y.ndim not in (1, 2) or self.x.ndim < 1 or len(self.x) != len(y):
            raise DataError(f"{self.name}: targets must have shape (N,) or (N, D) for {len(self.x)} inputs, "
                            f"got {y.shape}")
        with np.errstate(over="ignore"):
            self.y = np.ascontiguousarray(y.reshape(len(y), -1), dtype=np.float32)
        outputs = self.y.shape[1]
        if self.classes is not None and self.classes != outputs:
            raise DataError(f"{self.name}: {outputs} target columns, but {self.classes} outputs were asked for")
        self.classes = outputs
        if self.class_names is not None:
            raise DataError(f"{self.name}: regression targets have no class names")
        for what, values in (("x", self.x), ("targets", self.y)):
            if not np.isfinite(values).all():
                raise DataError(f"{self.name}: {what} holds a non-finite value (NaN, Inf, or beyond float32 range) "
                                f"in example {first_non_finite_example(values)}")

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, index):
        x = self.x[index]
        return (x if self.transform is None else self.transform(x)), self.y[index]

    @property
    def input_shape(self) -> tuple:
        """Shape of one example, e.g. (1, 28, 28)."""
        return self.x.shape[1:]

    def subset(self, indices, name: Optional[str] = None) -> "ArrayDataset":
        """The examples at ``indices`` (a copy), keeping classes, class names and the transform."""
        return replace(self, x=self.x[indices], y=self.y[indices], name=name or self.name)


class Subset(Dataset):
    """The examples of ``dataset`` at ``indices``, in that order, without copying them (as in PyTorch)."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = np.asarray(indices, dtype=np.int64).reshape(-1)
        n = len(dataset)
        bad = np.flatnonzero((self.indices < -n) | (self.indices >= n))
        if bad.size:
            raise IndexError(f"Subset: index {self.indices[bad[0]]} is outside a data set of {n} examples")

    def __getitem__(self, index):
        return self.dataset[int(self.indices[index])]

    def __len__(self):
        return len(self.indices)


class TransformedDataset(Dataset):
    """``(transform(x), y)`` for each example ``(x, y)`` of ``dataset``: one data set seen through two
    pipelines, e.g. training examples augmented and validation examples not."""

    def __init__(self, dataset, transform):
        self.dataset, self.transform = dataset, transform

    def __getitem__(self, index):
        x, y = self.dataset[index]
        return self.transform(x), y

    def __len__(self):
        return len(self.dataset)


def random_split(dataset, lengths, generator=None) -> List[Subset]:
    """Non-overlapping Subsets of ``dataset`` with the given lengths, examples drawn at random.

    ``lengths`` are counts summing to ``len(dataset)``, or fractions summing to 1 (floors of each share,
    the remainder handed out one by one from the first part, as PyTorch does). ``generator`` is a seed or a
    numpy Generator; without one the split differs from run to run.
    """
    n = len(dataset)
    lengths = list(lengths)
    if lengths and all(isinstance(f, float) for f in lengths) and abs(sum(lengths) - 1) < 1e-6:
        if any(f < 0 or f > 1 for f in lengths):
            raise ValueError(f"random_split: fractions must lie in [0, 1], got {lengths}")
        counts = [int(np.floor(n * f)) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    if any(isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0 for k in lengths):
        raise ValueError(f"random_split: lengths must be non-negative integers or fractions summing to 1, "
                         f"got {lengths}")
    if sum(lengths) != n:
        raise ValueError(f"random_split: lengths sum to {sum(lengths)} but the data set has {n} examples")
    rng = generator if isinstance(generator, np.random.Generator) else np.random.default_rng(generator)
    order = rng.permutation(n)
    ends = np.cumsum(lengths)
    return [Subset(dataset, order[end - k:end]) for k, end in zip(lengths, ends)]


@dataclass
class DataSplits:
    """The parts of one data set: ``train`` always, ``val`` and ``test`` when there are any.

    The parts are map-style data sets. What they share — number of classes, class names, the shape of
    one input — is read from ``train`` (an ArrayDataset) unless given here (image folders give it).
    ``skipped`` lists (file, reason) of unreadable images left out of them; ``collate_fn``, when set, is
    how their examples become batches (image folders: one conversion to float per batch).
    """

    train: Dataset
    val: Optional[Dataset] = None
    test: Optional[Dataset] = None
    name: str = "dataset"
    num_classes: Optional[int] = None
    names: Optional[List[str]] = None
    shape: Optional[tuple] = None
    skipped: list = field(default_factory=list)
    collate_fn: Optional[Callable] = None

    def parts(self) -> dict:
        """The splits that exist, by name, in train/val/test order."""
        return {k: d for k, d in (("train", self.train), ("val", self.val), ("test", self.test)) if d is not None}

    @property
    def classes(self) -> int:
        return self.num_classes if self.num_classes is not None else self.train.classes

    @property
    def class_names(self) -> Optional[List[str]]:
        return self.names if self.names is not None else getattr(self.train, "class_names", None)

    @property
    def input_shape(self) -> tuple:
        return tuple(self.shape) if self.shape is not None else self.train.input_shape


def first_non_finite_example(x: np.ndarray) -> int:
    """Index along axis 0 of the first example holding NaN or Inf (x must hold one)."""
    flat = x.reshape(len(x), -1) if len(x) else x
    return int(np.flatnonzero(~np.isfinite(flat).all(axis=1))[0])
