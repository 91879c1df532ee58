"""CIFAR-10, in both forms its authors distribute.

The "python version" (data_batch_1..5, test_batch, batches.meta) is a set of pickles, and pickle.load runs
whatever a file tells it to. So the pickles are read with an unpickler that can build only what a CIFAR
batch holds — dicts, lists, bytes, ints and NumPy arrays — and refuses any other global (os.system and the
like) with a DataError. The batches were pickled by Python 2, hence ``encoding="bytes"``: Python 2 strings
stay bytes, which is what the pixel data is (and why the keys are b"data", b"labels").

The "binary version" (data_batch_1.bin .. test_batch.bin, batches.meta.txt) is records of one label byte
and 3072 pixel bytes (1024 red, 1024 green, 1024 blue, each 32×32 row-major) — the same pixel layout.
"""

import io
import os
import pickle
import warnings

import numpy as np

from .dataset import ArrayDataset, DataSplits
from .errors import DataError

CLASS_NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
CLASSES = 10
IMAGE_SHAPE = (3, 32, 32)
PIXELS = 3 * 32 * 32
RECORD = 1 + PIXELS  # binary version: label byte + pixels
TRAIN_BATCHES = [f"data_batch_{i}" for i in range(1, 6)]
TEST_BATCH = "test_batch"
# Folders the two archives unpack to; a user may point at the folder that holds them.
ARCHIVE_FOLDERS = ["cifar-10-batches-py", "cifar-10-batches-bin"]


def _latin1_encode(text, encoding="latin1", errors="strict"):
    # Python 3 pickles bytes at protocol 2 as _codecs.encode(str, "latin1"); allow exactly that.
    if encoding not in ("latin1", "latin-1") or not isinstance(text, str):
        raise pickle.UnpicklingError(f"_codecs.encode with encoding {encoding!r} is not allowed")
    return text.encode("latin1", errors)


# NumPy's array-rebuilding function, taken from how NumPy pickles an array (numpy.core became numpy._core
# in NumPy 2; this finds it in either without touching the deprecated name).
_RECONSTRUCT = np.ndarray((0,)).__reduce__()[0]


# The dtypes a pickled array may have: NumPy's plain numeric type codes (CIFAR's pixels are "u1").
PLAIN_DTYPES = {f"{kind}{size}" for kind in "iu" for size in (1, 2, 4, 8)} | {"f4", "f8", "b1"}


def _plain_dtype(spec, align=False, copy=False):
    # Stands in for numpy.dtype: builds only plain numeric dtypes, never structured or object ones.
    code = spec.decode("latin1") if isinstance(spec, bytes) else spec
    if not isinstance(code, str) or code.lstrip("<>|=") not in PLAIN_DTYPES or align not in (0, 1) \
            or copy not in (0, 1):
        raise pickle.UnpicklingError(f"dtype {spec!r} is not a plain numeric type")
    return np.dtype(code)


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that resolves only the globals NumPy arrays need; anything else is refused."""

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"): lambda: _RECONSTRUCT,
        ("numpy._core.multiarray", "_reconstruct"): lambda: _RECONSTRUCT,
        ("numpy", "ndarray"): lambda: np.ndarray,
        ("numpy", "dtype"): lambda: _plain_dtype,
        ("_codecs", "encode"): lambda: _latin1_encode,
    }

    def __init__(self, file, name):
        super().__init__(file, encoding="bytes")
        self.name = name

    def find_class(self, module, name):
        make = self.ALLOWED.get((module, name))
        if make is None:
            wanted = f"{module}.{name}"
            wanted = wanted if wanted.isprintable() else repr(wanted)  # keep the message one line
            raise DataError(f"{self.name}: refusing to load: the pickle asks for {wanted}, "
                            "which a CIFAR batch never needs")
        return make()


def load_pickle(path):
    """The object in a pickle file, built by RestrictedUnpickler; any failure is a DataError naming the file."""
    name = os.fspath(path)
    try:
        with open(name, "rb") as f:
            # Read whole (CIFAR batches are 30 MB) so a corrupt length field can only run off the end of
            # a buffer, never ask the file for a huge read.
            raw = f.read()
    except OSError as e:
        raise DataError(f"{name}: cannot read: {e.strerror or e}") from None
    try:
        with warnings.catch_warnings():
            # A damaged dtype state makes NumPy warn before it fails; the DataError below says it all.
            warnings.simplefilter("ignore")
            return RestrictedUnpickler(io.BytesIO(raw), name).load()
    except DataError:
        raise
    except Exception as e:
        # A damaged pickle can fail inside any constructor it calls, with any exception type.
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise DataError(f"{name}: not a readable CIFAR pickle ({type(e).__name__}: {reason})") from None


def read_cifar_batch(path) -> ArrayDataset:
    """One CIFAR-10 batch file: a pickle (python version) or, when named *.bin, raw records (binary version).

    Returns x float32 (N, 3, 32, 32) in [0, 1] and labels in [0, 10).
    """
    name = os.fspath(path)
    pixels, labels = _read_binary_batch(name) if name.endswith(".bin") else _read_pickled_batch(name)
    bad = np.flatnonzero(labels >= CLASSES)
    if bad.size:
        i = int(bad[0])
        raise DataError(f"{name}: label {labels[i]} at index {i} is outside [0, {CLASSES})")
    x = pixels.reshape((-1,) + IMAGE_SHAPE).astype(np.float32)
    x /= 255
    return ArrayDataset(x, labels.astype(np.int64), CLASSES, os.path.basename(name), CLASS_NAMES)


def read_cifar_class_names(folder):
    """Class names from batches.meta (python) or batches.meta.txt (binary); the standard names if neither."""
    meta = os.path.join(folder, "batches.meta")
    if os.path.exists(meta):
        obj = load_pickle(meta)
        names = _get(obj, "label_names") if isinstance(obj, dict) else None
        if not isinstance(names, list) or not all(isinstance(n, (bytes, str)) for n in names):
            raise DataError(f"{meta}: expected a dict with a list of label_names")
        names = [n.decode("utf-8", "replace") if isinstance(n, bytes) else n for n in names]
    else:
        meta = os.path.join(folder, "batches.meta.txt")
        if not os.path.exists(meta):
            return list(CLASS_NAMES)
        with open(meta, encoding="utf-8", errors="replace") as f:
            names = [line.strip() for line in f if line.strip()]
    if len(names) != CLASSES:
        raise DataError(f"{meta}: lists {len(names)} class names, CIFAR-10 has {CLASSES}")
    return names


def load_cifar10(folder) -> DataSplits:
    """CIFAR-10 from a folder of either version: train from data_batch_1..5, test from test_batch.

    ``folder`` may also be the one holding cifar-10-batches-py/ or cifar-10-batches-bin/.
    """
    folder = resolve_cifar_folder(folder)
    suffix = ".bin" if os.path.exists(os.path.join(folder, TRAIN_BATCHES[0] + ".bin")) else ""
    files = [os.path.join(folder, b + suffix) for b in TRAIN_BATCHES + [TEST_BATCH]]
    missing = [os.path.basename(f) for f in files if not os.path.exists(f)]
    if missing:
        raise DataError(f"{folder}: missing {', '.join(missing)} (a CIFAR-10 folder holds "
                        f"data_batch_1..5{suffix} and test_batch{suffix})")
    class_names = read_cifar_class_names(folder)
    batches = [read_cifar_batch(f) for f in files[:-1]]
    test = read_cifar_batch(files[-1])
    train = ArrayDataset(np.concatenate([b.x for b in batches]), np.concatenate([b.y for b in batches]),
                    CLASSES, "cifar10/train", class_names)
    test = ArrayDataset(test.x, test.y, CLASSES, "cifar10/test", class_names)
    return DataSplits(train=train, test=test, name="cifar10")


def resolve_cifar_folder(folder):
    """The folder itself if it holds data_batch_1[.bin], else its archive subfolder that does."""
    folder = os.fspath(folder)
    for candidate in [folder] + [os.path.join(folder, sub) for sub in ARCHIVE_FOLDERS]:
        if any(os.path.exists(os.path.join(candidate, TRAIN_BATCHES[0] + s)) for s in ("", ".bin")):
            return candidate
    return folder


def is_cifar_folder(folder) -> bool:
    folder = resolve_cifar_folder(folder)
    return any(os.path.exists(os.path.join(folder, TRAIN_BATCHES[0] + s)) for s in ("", ".bin"))


def _read_pickled_batch(name):
    batch = load_pickle(name)
    if not isinstance(batch, dict):
        raise DataError(f"{name}: expected a dict with data and labels, got {type(batch).__name__}")
    data, labels = _get(batch, "data"), _get(batch, "labels")
    if data is None or labels is None:
        keys = ", ".join(repr(k) for k in list(batch)[:8])
        raise DataError(f"{name}: expected keys b'data' and b'labels', found {keys or 'none'}")
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != PIXELS:
        what = f"{data.dtype} array of shape {data.shape}" if isinstance(data, np.ndarray) else type(data).__name__
        raise DataError(f"{name}: data must be a uint8 array of shape (N, {PIXELS}), got {what}")
    if not isinstance(labels, (list, np.ndarray)) or len(labels) != len(data):
        count = len(labels) if hasattr(labels, "__len__") else type(labels).__name__
        raise DataError(f"{name}: {len(data)} images but {count} labels")
    if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in labels):
        raise DataError(f"{name}: labels must be integers")
    labels = np.asarray(labels, dtype=np.int64).reshape(-1) if len(labels) else np.zeros(0, np.int64)
    bad = np.flatnonzero(labels < 0)
    if bad.size:
        i = int(bad[0])
        raise DataError(f"{name}: label {labels[i]} at index {i} is outside [0, {CLASSES})")
    return data, labels


def _read_binary_batch(name):
    try:
        size = os.path.getsize(name)
    except OSError as e:
        raise DataError(f"{name}: cannot read: {e.strerror or e}") from None
    if size == 0 or size % RECORD:
        raise DataError(f"{name}: size {size} bytes is not a whole number of {RECORD}-byte records "
                        f"(1 label byte + {PIXELS} pixel bytes)")
    records = np.fromfile(name, dtype=np.uint8)
    if records.size != size:
        raise DataError(f"{name}: file changed while being read")
    records = records.reshape(-1, RECORD)
    return records[:, 1:], records[:, 0].astype(np.int64)


def _get(d, key):
    """d[b"key"] (Python 2 pickles) or d["key"] (pickles made by Python 3)."""
    return d.get(key.encode(), d.get(key))
