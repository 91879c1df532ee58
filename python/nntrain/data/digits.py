"""The embedded default data set: 8×8 handwritten digits, 1,797 images of 10 classes (see DIGITS_LICENSE.txt).

Small enough to ship inside the package (57 kB) and to train on in seconds, so every example, test and
first run works with no download.
"""

import gzip
import zlib
from importlib import resources

import numpy as np

from .dataset import ArrayDataset, DataSplits
from .errors import DataError
from .loader import split
from .tabular import parse_csv_bytes

FILE = "digits.csv.gz"
ROWS, PIXELS, MAX_PIXEL = 1797, 64, 16
TEST_EVERY = 5  # rows 0, 5, 10, ... (360 of them) are the test split; the other 1,437 are train
TRAIN_SIZE = ROWS - (ROWS + TEST_EVERY - 1) // TEST_EVERY
CLASSES = 10
CLASS_NAMES = [str(d) for d in range(CLASSES)]


def load_digits(val_fraction=0.0, seed=0) -> DataSplits:
    """The 8×8 digits: x float32 (N, 1, 8, 8) in [0, 1] (pixel counts 0..16 divided by 16), y in 0..9.

    The split is fixed: every fifth row of the file (rows 0, 5, 10, ..., 360 in all) is test and the other
    1,437 are train, so test accuracy is comparable across runs and machines. The file holds the writers'
    digits in blocks; taking a contiguous tail as test would test on writers never seen in training (a
    distribution shift: the default MLP scores about 92% there against 97% on this split), which is a
    different lesson from the one the default data set is for. With ``val_fraction`` in (0, 1), a validation split is drawn at
    random (from ``seed``) out of the train rows; the test rows are never touched.
    """
    x, y = read_digits()
    is_test = np.arange(ROWS) % TEST_EVERY == 0
    train = ArrayDataset(x[~is_test], y[~is_test], CLASSES, "digits/train", CLASS_NAMES)
    test = ArrayDataset(x[is_test], y[is_test], CLASSES, "digits/test", CLASS_NAMES)
    val = None
    if val_fraction:
        train, val = split(train, val_fraction, seed)
        train.name, val.name = "digits/train", "digits/val"
    return DataSplits(train=train, val=val, test=test, name="digits")


def read_digits():
    """All 1,797 rows in file order: (x float32 (1797, 1, 8, 8) in [0, 1], y int64 (1797,))."""
    ref = resources.files(__package__).joinpath(FILE)
    try:
        raw = ref.read_bytes()
    except OSError as e:
        raise DataError(f"{FILE}: missing from the installed package ({e}); reinstall nntrain") from None
    try:
        raw = gzip.decompress(raw)
    except (EOFError, zlib.error, gzip.BadGzipFile):
        raise DataError(f"{FILE}: truncated or corrupt gzip stream; reinstall nntrain") from None
    table, _ = parse_csv_bytes(raw, FILE, has_header=False)
    if table.shape != (ROWS, PIXELS + 1):
        raise DataError(f"{FILE}: expected {ROWS} rows of {PIXELS + 1} fields, got {table.shape}")
    pixels, labels = table[:, :PIXELS], table[:, PIXELS]
    if pixels.min() < 0 or pixels.max() > MAX_PIXEL or labels.min() < 0 or labels.max() >= CLASSES:
        raise DataError(f"{FILE}: values outside 0..{MAX_PIXEL} or labels outside 0..{CLASSES - 1}")
    x = (pixels / MAX_PIXEL).astype(np.float32).reshape(ROWS, 1, 8, 8)
    return x, labels.astype(np.int64)
