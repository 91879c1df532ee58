"""Finding a data set by name or by path, and listing the ones this machine has.

A named data set is looked for in, in order: the explicit path, ``$NNTRAIN_DATA/<name>``,
``~/.cache/nntrain/<name>`` and ``/usr/share/datasets/<name>`` (where Debian's ``dataset-fashion-mnist``
package puts Fashion-MNIST). Nothing is ever downloaded: the error for a missing set says how to get it.
"""

import os
from typing import NamedTuple, Optional

from . import cifar
from .dataset import DataSplits
from .digits import CLASS_NAMES as DIGIT_NAMES, ROWS as DIGIT_ROWS, TRAIN_SIZE as DIGIT_TRAIN, load_digits
from .errors import DataError
from .idx import load_idx_pair, read_idx_header
from .image_splits import image_folder_parts, load_image_folder
from .tabular import load_npz, read_csv

SYSTEM_DATA_DIR = "/usr/share/datasets"

FASHION_MNIST_CLASS_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                             "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
CLASS_NAMES = {
    "digits": DIGIT_NAMES,
    "mnist": [str(d) for d in range(10)],
    "fashion-mnist": FASHION_MNIST_CLASS_NAMES,
    "cifar10": cifar.CLASS_NAMES,
}
KNOWN_DATASETS = list(CLASS_NAMES)
ALIASES = {"fashion_mnist": "fashion-mnist", "fashionmnist": "fashion-mnist",
           "cifar-10": "cifar10", "cifar_10": "cifar10"}
IDX_FILES = "train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, " \
            "t10k-labels-idx1-ubyte.gz"
HOW_TO_GET = {
    "mnist": f"copy the four MNIST IDX files ({IDX_FILES}) into ~/.cache/nntrain/mnist",
    "fashion-mnist": "run `apt-get install dataset-fashion-mnist` (Debian/Ubuntu), or copy the four "
                     f"Fashion-MNIST IDX files ({IDX_FILES}) into ~/.cache/nntrain/fashion-mnist",
    "cifar10": "unpack the CIFAR-10 python or binary archive (cifar-10-python.tar.gz or "
               "cifar-10-binary.tar.gz) into ~/.cache/nntrain/cifar10",
}


class DatasetInfo(NamedTuple):
    """One data set this machine has: where (a folder, or "embedded") and examples per split."""

    name: str
    location: str
    sizes: dict  # split -> number of examples, for the splits whose size is known without reading them


def canonical_name(name) -> str:
    """The known name ``name`` stands for (case, _ and - forgiven); DataError listing known names if none."""
    key = str(name).strip().lower()
    key = ALIASES.get(key, key)
    if key not in CLASS_NAMES:
        raise DataError(f"unknown data set {name!r}; known: {', '.join(KNOWN_DATASETS)} "
                        "(or give a path to IDX files, a CIFAR-10 folder, an .npz or a .csv)")
    return key


def search_places(name) -> list:
    """Folders where the data set ``name`` is looked for, in order."""
    places = []
    if os.environ.get("NNTRAIN_DATA"):
        places.append(os.path.join(os.environ["NNTRAIN_DATA"], name))
    places.append(os.path.join(os.path.expanduser("~"), ".cache", "nntrain", name))
    places.append(os.path.join(SYSTEM_DATA_DIR, name))
    return places


def find_dataset(name, path=None) -> DataSplits:
    """The data set called ``name`` (digits, mnist, fashion-mnist, cifar10), from ``path`` when given.

    digits is embedded in the package; the others are looked for in ``search_places(name)``.
    """
    key = canonical_name(name)
    if path is not None:
        return load_path(path, key)
    if key == "digits":
        return load_digits()
    for place in search_places(key):
        if _holds(place, key):
            return load_path(place, key)
    env = "" if os.environ.get("NNTRAIN_DATA") else " (NNTRAIN_DATA is not set)"
    raise DataError(f"{key}: not found; looked in {', '.join(search_places(key))}{env}; "
                    f"to get it, {HOW_TO_GET[key]}, or pass its path")


def load_path(path, name=None, regression=False) -> DataSplits:
    """DataSplits from a path: a folder of MNIST-style IDX files, a CIFAR-10 folder, a folder of images
    (one subfolder per class, see image_splits.py), an .npz or a .csv.

    ``name`` (a known data set name) supplies class names; without it a folder whose name contains
    "fashion" gets Fashion-MNIST's. With ``regression``, an .npz or .csv holds float targets instead of labels
    (data of any other kind is a DataError).
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise DataError(f"{path}: no such file or folder")
    if regression and (os.path.isdir(path) or not path.lower().endswith((".npz", ".csv", ".csv.gz"))):
        raise DataError(f"{path}: regression reads float targets from an .npz (x, y) or a .csv (target,value,...), "
                        "not a folder of classes")
    label = name or os.path.basename(os.path.normpath(path))
    if os.path.isdir(path):
        if idx_files(path)["train-images"]:
            return _load_idx_folder(path, label, _class_names(name, path))
        if cifar.is_cifar_folder(path):
            return cifar.load_cifar10(path)
        if image_folder_parts(path):
            return load_image_folder(path)
        raise DataError(f"{path}: holds neither MNIST-style IDX files ({IDX_FILES}, .gz optional), "
                        "CIFAR-10 batches (data_batch_1..5 and test_batch, or their .bin versions), nor "
                        "images in one subfolder per class")
    lower = path.lower()
    if lower.endswith(".npz"):
        splits = load_npz(path, regression=regression)
    elif lower.endswith((".csv", ".csv.gz")):
        splits = DataSplits(train=read_csv(path, regression=regression), name=label)
    else:
        raise DataError(f"{path}: not a data file nntrain reads (expected a folder, an .npz or a .csv)")
    names = CLASS_NAMES.get(name) if name else None
    if names and len(names) == splits.classes:
        for part in splits.parts().values():
            part.class_names = list(names)
    return splits


def available_datasets() -> list:
    """The known data sets this machine has, as DatasetInfo(name, location, sizes), for ``nntrain datasets``."""
    found = [DatasetInfo("digits", "embedded", {"train": DIGIT_TRAIN, "test": DIGIT_ROWS - DIGIT_TRAIN})]
    for key in KNOWN_DATASETS:
        if key == "digits":
            continue
        place = next((p for p in search_places(key) if _holds(p, key)), None)
        if place is not None:
            found.append(DatasetInfo(key, place, _sizes(place)))
    return found


def idx_files(folder) -> dict:
    """The IDX files in ``folder`` by role (train-images, train-labels, t10k-images, t10k-labels), or None.

    Accepts the usual names, gzipped or not, with "-idx3-ubyte" or ".idx3-ubyte".
    """
    found = {}
    for role, dims in (("train-images", 3), ("train-labels", 1), ("t10k-images", 3), ("t10k-labels", 1)):
        names = [f"{role}{sep}idx{dims}-ubyte{gz}" for sep in ("-", ".") for gz in (".gz", "")]
        found[role] = next((os.path.join(folder, n) for n in names if os.path.isfile(os.path.join(folder, n))),
                           None)
    return found


def _load_idx_folder(folder, label, class_names) -> DataSplits:
    files = idx_files(folder)
    if not files["train-labels"]:
        raise DataError(f"{folder}: has {os.path.basename(files['train-images'])} "
                        "but no train-labels-idx1-ubyte[.gz]")
    if bool(files["t10k-images"]) != bool(files["t10k-labels"]):
        have, lack = ("t10k-images", "t10k-labels") if files["t10k-images"] else ("t10k-labels", "t10k-images")
        raise DataError(f"{folder}: has {os.path.basename(files[have])} but no {lack}-idx*-ubyte[.gz]")
    train = load_idx_pair(files["train-images"], files["train-labels"], 10, f"{label}/train", class_names)
    test = None
    if files["t10k-images"]:
        test = load_idx_pair(files["t10k-images"], files["t10k-labels"], 10, f"{label}/test", class_names)
    return DataSplits(train=train, test=test, name=label)


def _class_names(name, folder) -> Optional[list]:
    if name in CLASS_NAMES:
        return list(CLASS_NAMES[name])
    return list(FASHION_MNIST_CLASS_NAMES) if "fashion" in os.path.basename(os.path.normpath(folder)).lower() \
        else None


def _holds(place, key) -> bool:
    if not os.path.isdir(place):
        return False
    return cifar.is_cifar_folder(place) if key == "cifar10" else idx_files(place)["train-images"] is not None


def _sizes(place) -> dict:
    """Examples per split from file headers or sizes alone; splits not knowable that cheaply are left out."""
    sizes = {}
    try:
        files = idx_files(place)
        if files["train-images"]:
            for split, role in (("train", "train-images"), ("test", "t10k-images")):
                if files[role]:
                    sizes[split] = read_idx_header(files[role])[1][0]
            return sizes
        folder = cifar.resolve_cifar_folder(place)
        batches = {"train": cifar.TRAIN_BATCHES, "test": [cifar.TEST_BATCH]}
        for split, names in batches.items():
            paths = [os.path.join(folder, n + ".bin") for n in names]
            if all(os.path.isfile(p) for p in paths):
                sizes[split] = sum(os.path.getsize(p) // cifar.RECORD for p in paths)
    except DataError:
        pass  # a damaged file shows up when the set is loaded, with its own message
    return sizes
