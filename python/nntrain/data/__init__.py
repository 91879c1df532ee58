"""Data: map-style data sets and the DataLoader that batches them; readers for MNIST-style IDX files,
CIFAR-10, .npz and .csv, folders of images, and the embedded 8×8 digits; image transforms.

Needs only NumPy (and Pillow for images, imported when an image is read): nothing here imports the
compiled core. Every reader checks its file and raises DataError with one line naming the file and what
is wrong.
"""

from .cifar import load_cifar10, read_cifar_batch
from .collate import default_collate
from .dataset import ArrayDataset, Dataset, DataSplits, Subset, random_split
from .digits import load_digits
from .errors import DataError
from .finder import DatasetInfo, available_datasets, find_dataset, load_path
from .idx import load_idx_pair, read_idx
from .image_folder import ImageFolder
from .loader import DataLoader, one_hot, split
from .normalize import Normalizer, normalise
from .tabular import load_npz, read_csv, read_npz

__all__ = [
    "ArrayDataset", "DataError", "DataLoader", "DataSplits", "Dataset", "DatasetInfo", "ImageFolder", "Normalizer",
    "Subset",
    "available_datasets", "default_collate", "find_dataset", "load_cifar10", "load_digits", "load_idx_pair",
    "load_npz", "load_path", "normalise", "one_hot", "random_split", "read_cifar_batch", "read_csv", "read_idx",
    "read_npz", "split",
]
