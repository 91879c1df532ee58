"""In-memory labelled data: the one shape every reader returns and every loader consumes."""

from dataclasses import dataclass
from typing import List, Optional

import numpy as np

from .errors import DataError


@dataclass
class Dataset:
    """N labelled examples held as two arrays.

    ``x`` is float32, C-contiguous, shape (N, ...) — images are (N, C, H, W); ``y`` is int64, shape (N,),
    each label in [0, classes). Construction checks all of this (and that ``x`` is finite) and raises
    DataError naming ``name``, so a Dataset that exists is one a model can train on.
    """

    x: np.ndarray
    y: np.ndarray
    classes: int
    name: str = "dataset"
    class_names: Optional[List[str]] = None

    def __post_init__(self):
        # Converting here (not in every reader) keeps the guarantee in one place; no copy when already right.
        with np.errstate(over="ignore"):  # values beyond float32 become inf and fail the finiteness check
            self.x = np.asarray(self.x, dtype=np.float32, order="C")  # 0-d stays 0-d for the check below
        y = np.asarray(self.y)
        if y.dtype.kind not in "iu" and y.size:
            raise DataError(f"{self.name}: labels must be integers, got dtype {y.dtype}")
        self.y = np.asarray(y, dtype=np.int64, order="C")
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

    def __len__(self) -> int:
        return len(self.y)

    @property
    def input_shape(self) -> tuple:
        """Shape of one example, e.g. (1, 28, 28)."""
        return self.x.shape[1:]

    def subset(self, indices, name: Optional[str] = None) -> "Dataset":
        """The examples at ``indices`` (a copy), keeping classes and class names."""
        return Dataset(self.x[indices], self.y[indices], self.classes, name or self.name, self.class_names)


@dataclass
class DataSplits:
    """The parts of one data set: ``train`` always, ``val`` and ``test`` when there are any."""

    train: Dataset
    val: Optional[Dataset] = None
    test: Optional[Dataset] = None
    name: str = "dataset"

    def parts(self) -> dict:
        """The splits that exist, by name, in train/val/test order."""
        return {k: d for k, d in (("train", self.train), ("val", self.val), ("test", self.test)) if d is not None}

    @property
    def classes(self) -> int:
        return self.train.classes

    @property
    def class_names(self) -> Optional[List[str]]:
        return self.train.class_names

    @property
    def input_shape(self) -> tuple:
        return self.train.input_shape


def first_non_finite_example(x: np.ndarray) -> int:
    """Index along axis 0 of the first example holding NaN or Inf (x must hold one)."""
    flat = x.reshape(len(x), -1) if len(x) else x
    return int(np.flatnonzero(~np.isfinite(flat).all(axis=1))[0])
