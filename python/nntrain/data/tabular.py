"""Arrays a user made themselves: NumPy .npz archives and CSV files of ``label,value,value,...`` rows.

.npz files are opened with ``allow_pickle=False`` always (an object array would be a pickle, and a pickle can
run code). Before an array is read, its declared shape is checked against the size of its member in the
archive, so a damaged header cannot make NumPy allocate for data that is not there.
"""

import gzip
import os
import zipfile
import zlib

import numpy as np

from .dataset import ArrayDataset, DataSplits
from .errors import DataError

GZIP_MAGIC = b"\x1f\x8b"
DEFLATE_MAX_RATIO = 1032  # deflate cannot expand data by more than ~1032:1
SPLIT_KEYS = [("train", "x_train", "y_train"), ("val", "x_val", "y_val"), ("test", "x_test", "y_test")]


def read_npz(path, classes=None, regression=False) -> ArrayDataset:
    """An ArrayDataset from an .npz holding arrays ``x`` (N, ...) and ``y`` (N,) of integer labels.

    Floating x is used as it is; unsigned-byte x is taken as pixels and scaled to [0, 1]; other integer x
    is converted to float32 unscaled. A 3-D x (N, H, W) gains a channel axis: (N, 1, H, W). ``classes``
    defaults to max(y) + 1. With ``regression``, y holds float targets (N,) or (N, D) instead of labels.
    """
    name = os.fspath(path)
    arrays = _read_npz_arrays(name, ["x", "y"])
    if "x" not in arrays or "y" not in arrays:
        raise DataError(f"{name}: expected arrays x and y (or x_train, y_train, ...), found {_keys(arrays)}")
    y = _labels(arrays["y"], name, "y", regression)
    if classes is None and not regression:
        classes = _infer_classes([y], name)
    return _dataset(arrays["x"], y, classes, name, "x", regression)


def load_npz(path, classes=None, regression=False) -> DataSplits:
    """DataSplits from an .npz: ``x_train, y_train`` (+ optional ``x_val, y_val``, ``x_test, y_test``),
    or just ``x, y`` as the train split. ``classes`` defaults to the largest label of all splits + 1."""
    name = os.fspath(path)
    arrays = _read_npz_arrays(name, [k for _, xk, yk in SPLIT_KEYS for k in (xk, yk)] + ["x", "y"])
    if "x_train" not in arrays:
        return DataSplits(train=read_npz(name, classes, regression), name=_stem(name))
    parts = {}
    for split, xk, yk in SPLIT_KEYS:
        if (xk in arrays) != (yk in arrays):
            raise DataError(f"{name}: has {xk if xk in arrays else yk} without {yk if xk in arrays else xk}")
        if xk in arrays:
            parts[split] = (arrays[xk], _labels(arrays[yk], name, yk, regression), xk)
    if classes is None and not regression:
        classes = _infer_classes([y for _, y, _ in parts.values()], name)
    datasets = {s: _dataset(x, y, classes, f"{name}[{s}]", xk, regression) for s, (x, y, xk) in parts.items()}
    if regression and len({d.classes for d in datasets.values()}) > 1:
        raise DataError(f"{name}: the splits' targets have different numbers of columns "
                        f"({', '.join(f'{s}: {d.classes}' for s, d in datasets.items())})")
    return DataSplits(name=_stem(name), **datasets)


def read_csv(path, classes=None, has_header=None, label_column=0, regression=False) -> ArrayDataset:
    """An ArrayDataset from a CSV file (plain or gzipped) whose rows are ``label,value,value,...``.

    ``label_column`` is 0 (first field) or -1 (last). ``has_header=None`` detects a header: the first row is
    one when any of its fields is not a number. Every row must have the same number of fields. When every
    value is an integer in 0..255 and some value exceeds 1, the values are pixels and are scaled by 1/255.
    x is (N, fields - 1) float32; ``classes`` defaults to max(label) + 1. With ``regression``, the label
    field is a float target instead (``target,value,value,...``).
    """
    name = os.fspath(path)
    table, line_numbers = parse_csv_table(name, has_header)
    labels = np.ascontiguousarray(table[:, label_column])
    x = np.delete(table, label_column % table.shape[1], axis=1)
    if regression:
        return ArrayDataset(x.astype(np.float32), labels, classes, name, regression=True)
    whole = labels == np.floor(labels)
    bad = np.flatnonzero(~whole | (labels < 0))
    if bad.size:
        i = int(bad[0])
        raise DataError(f"{name}: line {line_numbers[i]}: label {_num(labels[i])} is not a non-negative integer")
    y = labels.astype(np.int64)
    if x.size and (x == np.floor(x)).all() and x.min() >= 0 and 1 < x.max() <= 255:
        x /= 255
    x = x.astype(np.float32)
    if classes is None:
        classes = int(y.max()) + 1
    bad = np.flatnonzero(y >= classes)
    if bad.size:
        i = int(bad[0])
        raise DataError(f"{name}: line {line_numbers[i]}: label {y[i]} is outside [0, {classes})")
    return ArrayDataset(x, y, classes, name)


def parse_csv_table(name, has_header=None):
    """(float64 table (rows, fields), the file's line number of each row) from a CSV file of numbers.

    Checks that every row has the same number of fields and every field is a finite number, naming the
    line that is wrong. The work is done by NumPy on the whole file; Python only counts commas per line.
    """
    try:
        with open(name, "rb") as f:
            raw = f.read()
        if raw[:2] == GZIP_MAGIC:
            raw = gzip.decompress(raw)
    except (EOFError, zlib.error, gzip.BadGzipFile):
        raise DataError(f"{name}: truncated or corrupt gzip stream") from None
    except OSError as e:
        raise DataError(f"{name}: cannot read: {e.strerror or e}") from None
    return parse_csv_bytes(raw, name, has_header)


def parse_csv_bytes(raw, name, has_header=None):
    """parse_csv_table on bytes already in memory (e.g. a data file shipped inside the package)."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise DataError(f"{name}: not UTF-8 text (byte {e.start})") from None
    lines = text.splitlines()
    numbered = [(i + 1, line) for i, line in enumerate(lines) if line.strip()]
    if not numbered:
        raise DataError(f"{name}: no rows")
    if has_header is None:
        has_header = not all(_is_number(field) for field in numbered[0][1].split(","))
    if has_header:
        numbered = numbered[1:]
        if not numbered:
            raise DataError(f"{name}: a header but no rows")
    counts = np.array([line.count(",") for _, line in numbered]) + 1
    if counts[0] < 2:
        raise DataError(f"{name}: line {numbered[0][0]}: a row needs a label and at least one value")
    ragged = np.flatnonzero(counts != counts[0])
    if ragged.size:
        i = int(ragged[0])
        raise DataError(f"{name}: line {numbered[i][0]} has {counts[i]} fields, "
                        f"line {numbered[0][0]} has {counts[0]}")
    try:
        # NumPy's C parser: fast and light even for 60,000 rows of 785 fields.
        table = np.loadtxt([line for _, line in numbered], delimiter=",", dtype=np.float64, ndmin=2,
                           comments=None)
    except ValueError as e:
        # Only on failure: find the first bad field to name its line.
        for lineno, line in numbered:
            for field in line.split(","):
                if not _is_number(field):
                    raise DataError(f"{name}: line {lineno}: {field.strip()!r} is not a number") from None
        raise DataError(f"{name}: {_first_line(e)}") from None
    finite = np.isfinite(table).all(axis=1)
    if not finite.all():
        i = int(np.flatnonzero(~finite)[0])
        raise DataError(f"{name}: line {numbered[i][0]} holds a non-finite value (nan or inf)")
    return table, np.array([lineno for lineno, _ in numbered])


def _read_npz_arrays(name, wanted):
    """The arrays named in ``wanted`` that the archive holds, each checked before it is read."""
    try:
        archive = np.load(name, allow_pickle=False)
    except FileNotFoundError:
        raise DataError(f"{name}: no such file") from None
    except Exception as e:  # zipfile and NumPy raise many types on a damaged archive
        raise DataError(f"{name}: not a readable .npz archive ({_first_line(e)})") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise DataError(f"{name}: a single .npy array, expected an .npz archive of named arrays")
    arrays = {}
    with archive:
        for key in wanted:
            if key not in archive.files:
                continue
            member = key + ".npy" if key + ".npy" in archive.zip.namelist() else key
            try:
                _check_member_header(archive.zip, archive.zip.getinfo(member), name, key)
                arrays[key] = archive[key]
            except DataError:
                raise
            except Exception as e:
                # zipfile, zlib and NumPy's header parser each raise their own types on damaged data.
                raise DataError(f"{name}: array {key!r} is unreadable ({type(e).__name__}: {_first_line(e)})") \
                    from None
    if not arrays:
        raise DataError(f"{name}: expected arrays x and y (or x_train, y_train, ...), found {_keys(archive.files)}")
    return arrays


def _check_member_header(zf, member, name, key):
    """Refuses an array whose declared shape needs more bytes than its archive member can hold."""
    # The member's own sizes come from the archive's directory and may be damaged too: bound them by what
    # the file can hold before trusting them to bound the array.
    if member.compress_size > os.path.getsize(name):
        raise DataError(f"{name}: array {key!r} claims {member.compress_size} compressed bytes, "
                        "more than the whole file")
    stored = member.compress_type == zipfile.ZIP_STORED
    if stored and member.file_size != member.compress_size or \
            member.file_size > DEFLATE_MAX_RATIO * member.compress_size + 1024:
        raise DataError(f"{name}: array {key!r} claims {member.file_size} bytes from {member.compress_size} "
                        "stored, more than its compression can produce")
    with zf.open(member) as f:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(f)
        else:
            shape, _, dtype = np.lib.format.read_array_header_2_0(f)
    if dtype.hasobject:
        raise DataError(f"{name}: array {key!r} holds Python objects, which would need pickle; refusing")
    needed = int(np.prod(shape, dtype=object)) * dtype.itemsize
    if needed > member.file_size:
        raise DataError(f"{name}: array {key!r} declares shape {shape} of {dtype} ({needed} bytes) "
                        f"but its archive member holds {member.file_size} bytes")


def _labels(y, name, key, regression=False):
    if regression:
        if y.dtype.kind not in "fiu" or y.ndim not in (1, 2):
            raise DataError(f"{name}: {key} must hold float targets of shape (N,) or (N, D), got {y.dtype} {y.shape}")
        return y
    if y.dtype.kind not in "iu":
        raise DataError(f"{name}: {key} must hold integer labels, got dtype {y.dtype}")
    if y.ndim != 1:
        raise DataError(f"{name}: {key} must have shape (N,), got {y.shape}")
    bad = np.flatnonzero(y < 0)
    if bad.size:
        i = int(bad[0])
        raise DataError(f"{name}: {key}[{i}] = {y[i]} is a negative label")
    return y.astype(np.int64)


def _dataset(x, y, classes, name, key, regression=False):
    if x.dtype.kind not in "fiub":
        raise DataError(f"{name}: {key} must hold numbers, got dtype {x.dtype}")
    if x.ndim < 1 or len(x) != len(y):
        raise DataError(f"{name}: {key} has shape {x.shape} but there are {len(y)} labels")
    if x.dtype == np.uint8:
        x = x.astype(np.float32)
        x /= 255
    else:
        with np.errstate(over="ignore"):  # values beyond float32 become inf, reported just below
            x = x.astype(np.float32)
    if x.ndim == 3:
        x = x[:, None]
    finite = np.isfinite(x.reshape(len(x), -1)).all(axis=1) if len(x) else np.ones(0, bool)
    if not finite.all():
        i = int(np.flatnonzero(~finite)[0])
        raise DataError(f"{name}: {key}[{i}] holds a non-finite value (NaN, Inf, or beyond float32 range)")
    if regression:
        return ArrayDataset(x, y, classes, name, regression=True)
    bad = np.flatnonzero(y >= classes)
    if bad.size:
        i = int(bad[0])
        raise DataError(f"{name}: label {y[i]} at index {i} is outside [0, {classes})")
    return ArrayDataset(x, y, classes, name)


def _infer_classes(label_arrays, name):
    nonempty = [y for y in label_arrays if y.size]
    if not nonempty:
        raise DataError(f"{name}: no labels")
    return int(max(y.max() for y in nonempty)) + 1


def _is_number(field):
    try:
        float(field)
        return "_" not in field  # Python accepts 1_000, NumPy's parser does not
    except ValueError:
        return False


def _num(v):
    return int(v) if float(v).is_integer() else float(v)


def _keys(keys):
    return ", ".join(sorted(keys)) or "no arrays"


def _stem(name):
    return os.path.splitext(os.path.basename(name))[0]


def _first_line(e):
    text = str(e)
    return text.splitlines()[0] if text else type(e).__name__
