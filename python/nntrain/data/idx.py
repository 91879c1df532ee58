"""MNIST's IDX format: a 4-byte magic, big-endian uint32 dimensions, then the raw big-endian values.

    magic = 0x00 0x00 <type code> <ndims>      e.g. 0x00000803: unsigned bytes, 3 dims (images N×H×W)
    dims  = ndims × uint32, big-endian
    data  = prod(dims) values of the type, big-endian

Files come plain or gzipped (recognised by gzip's magic bytes 1f 8b, not by the name). Every check that can
be made from the header is made before any allocation: the declared size is compared with what the file
really holds, so a header declaring 2^31 × 2^31 values fails at once instead of asking for exabytes.
"""

import gzip
import os
import zlib

import numpy as np

from .dataset import ArrayDataset
from .errors import DataError

# type code -> (big-endian dtype, name in the IDX spec)
IDX_TYPES = {
    0x08: (np.dtype(np.uint8), "unsigned byte"),
    0x09: (np.dtype(np.int8), "signed byte"),
    0x0B: (np.dtype(">i2"), "short"),
    0x0C: (np.dtype(">i4"), "int"),
    0x0D: (np.dtype(">f4"), "float"),
    0x0E: (np.dtype(">f8"), "double"),
}
UNSIGNED_BYTE = 0x08
MAX_DIMS = 4
GZIP_MAGIC = b"\x1f\x8b"
CHUNK = 1 << 20  # gzip payloads are read in pieces so a lying header never sizes an allocation


def read_idx(path, type_code=None, ndims=None) -> np.ndarray:
    """The array stored in an IDX file (plain or gzipped), in native byte order.

    ``type_code`` and ``ndims``, when given, are what the caller expects (e.g. 0x08 and 3 for MNIST
    images); a file of another kind is rejected naming both magics. Raises DataError on anything wrong.
    """
    name = os.fspath(path)
    try:
        with open(name, "rb") as f:
            compressed = f.read(2) == GZIP_MAGIC
            f.seek(0)
            if compressed:
                with gzip.GzipFile(fileobj=f, mode="rb") as g:
                    return _read_idx_stream(g, name, type_code, ndims, payload_size=None)
            return _read_idx_stream(f, name, type_code, ndims, payload_size=os.fstat(f.fileno()).st_size)
    except (EOFError, zlib.error, gzip.BadGzipFile) as e:
        # EOFError: the stream ends before gzip's end marker; the others: corrupt data or a bad CRC.
        what = "truncated gzip stream" if isinstance(e, EOFError) else f"corrupt gzip stream ({e})"
        raise DataError(f"{name}: {what}") from None
    except OSError as e:
        raise DataError(f"{name}: cannot read: {e.strerror or e}") from None


def read_idx_header(path) -> tuple:
    """(type code, dims) from an IDX file's header alone — cheap even for a large gzipped file."""
    name = os.fspath(path)
    try:
        with open(name, "rb") as f:
            compressed = f.read(2) == GZIP_MAGIC
            f.seek(0)
            stream = gzip.GzipFile(fileobj=f, mode="rb") if compressed else f
            return _read_header(stream, name, None, None)
    except (EOFError, zlib.error, gzip.BadGzipFile):
        raise DataError(f"{name}: truncated or corrupt gzip stream") from None
    except OSError as e:
        raise DataError(f"{name}: cannot read: {e.strerror or e}") from None


def load_idx_pair(images_path, labels_path, classes=10, name=None, class_names=None) -> ArrayDataset:
    """An MNIST-style pair of IDX files as an ArrayDataset.

    Images (N, H, W) of unsigned bytes become float32 (N, 1, H, W) in [0, 1]; labels (N,) of unsigned bytes
    must each lie in [0, classes).
    """
    images = read_idx(images_path, UNSIGNED_BYTE, 3)
    labels = read_idx(labels_path, UNSIGNED_BYTE, 1)
    images_name, labels_name = os.fspath(images_path), os.fspath(labels_path)
    if len(images) == 0:
        raise DataError(f"{images_name}: holds no images")
    if len(images) != len(labels):
        raise DataError(f"{images_name} holds {len(images)} images but {labels_name} holds {len(labels)} labels")
    bad = np.flatnonzero(labels >= classes)
    if bad.size:
        i = int(bad[0])
        raise DataError(f"{labels_name}: label {labels[i]} at index {i} is outside [0, {classes})")
    x = images[:, None, :, :].astype(np.float32)
    x /= 255
    return ArrayDataset(x, labels.astype(np.int64), classes, name or images_name, class_names)


def _read_idx_stream(f, name, type_code, ndims, payload_size):
    """Reads header and payload from an open stream; payload_size is the bytes left (None: unknown, gzip)."""
    code, dims = _read_header(f, name, type_code, ndims)
    dtype = IDX_TYPES[code][0]
    header_size = 4 + 4 * len(dims)
    expected = int(np.prod(dims, dtype=object)) * dtype.itemsize  # Python ints: no overflow for absurd dims
    if payload_size is not None:
        held = payload_size - header_size
        if held != expected:
            raise DataError(f"{name}: header declares {_describe(dims)} ({expected} bytes) "
                            f"but the file holds {held} bytes after the {header_size}-byte header")
        data = bytearray(expected)
        if f.readinto(data) != expected:
            raise DataError(f"{name}: file shrank while being read")
    else:
        data = _read_at_most(f, expected + 1)
        if len(data) != expected:
            held = f"more than {expected}" if len(data) > expected else str(len(data))
            raise DataError(f"{name}: header declares {_describe(dims)} ({expected} bytes) "
                            f"but the gzip stream holds {held} bytes after the {header_size}-byte header")
        f.read()  # drain to the end so gzip verifies its CRC and length
    array = np.frombuffer(data, dtype=dtype).reshape(dims)
    return array.astype(dtype.newbyteorder("="), copy=False) if dtype.byteorder == ">" else array


def _read_header(f, name, type_code, ndims):
    magic = f.read(4)
    if len(magic) < 4:
        raise DataError(f"{name}: file is {len(magic)} bytes, shorter than the 4-byte IDX magic number")
    value = int.from_bytes(magic, "big")
    if type_code is not None and (magic[0], magic[1], magic[2], magic[3]) != (0, 0, type_code, ndims):
        expected = (type_code << 8) | ndims
        raise DataError(f"{name}: bad magic number 0x{value:08x}, expected 0x{expected:08x} "
                        f"({IDX_TYPES[type_code][1]}, {ndims} dims)")
    if magic[0] != 0 or magic[1] != 0:
        raise DataError(f"{name}: bad magic number 0x{value:08x}, an IDX file starts with two zero bytes")
    code, n = magic[2], magic[3]
    if code not in IDX_TYPES:
        known = ", ".join(f"0x{c:02x}" for c in IDX_TYPES)
        raise DataError(f"{name}: unknown IDX type code 0x{code:02x} in magic 0x{value:08x} (known: {known})")
    if not 1 <= n <= MAX_DIMS:
        raise DataError(f"{name}: magic 0x{value:08x} declares {n} dims, expected 1 to {MAX_DIMS}")
    raw = f.read(4 * n)
    if len(raw) < 4 * n:
        raise DataError(f"{name}: file ends inside the header ({4 + len(raw)} of {4 + 4 * n} bytes)")
    dims = tuple(int.from_bytes(raw[4 * i:4 * i + 4], "big") for i in range(n))
    return code, dims


def _read_at_most(f, limit):
    """Up to ``limit`` bytes from a stream, in pieces, so memory follows what is really there."""
    data = bytearray()
    while len(data) < limit:
        piece = f.read(min(CHUNK, limit - len(data)))
        if not piece:
            break
        data += piece
    return data


def _describe(dims):
    shape = "x".join(str(d) for d in dims[1:])
    if len(dims) == 1:
        return f"{dims[0]} values"
    if len(dims) == 3:
        return f"{dims[0]} images of {shape}"
    return f"{dims[0]} items of {shape}"
