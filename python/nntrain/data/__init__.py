"""Data: readers for MNIST-style IDX files, CIFAR-10, .npz and .csv, the embedded 8×8 digits, and the
DataLoader that turns a Dataset into batches.

Needs only NumPy: nothing here imports the compiled core. Every reader checks its file and raises DataError
with one line naming the file and what is wrong.
"""

from .cifar import load_cifar10, read_cifar_batch
from .dataset import Dataset, DataSplits
from .digits import load_digits
from .errors import DataError
from .finder import DatasetInfo, available_datasets, find_dataset, load_path
from .idx import load_idx_pair, read_idx
from .loader import DataLoader, Normalizer, normalise, one_hot, split
from .tabular import load_npz, read_csv, read_npz

__all__ = [
    "DataError", "DataLoader", "DataSplits", "Dataset", "DatasetInfo", "Normalizer", "available_datasets",
    "find_dataset", "load_cifar10", "load_digits", "load_idx_pair", "load_npz", "load_path", "normalise",
    "one_hot", "read_cifar_batch", "read_csv", "read_idx", "read_npz", "split",
]
