"""nntrain.data.idx: MNIST's IDX format, plain and gzipped, and every way such a file can be wrong."""

import gzip
import struct
import time
import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from nntrain.data import ArrayDataset, DataError, load_idx_pair, read_idx
from nntrain.data.idx import read_idx_header

CODES = {np.dtype(np.uint8): 0x08, np.dtype(np.int8): 0x09, np.dtype(">i2"): 0x0B,
         np.dtype(">i4"): 0x0C, np.dtype(">f4"): 0x0D, np.dtype(">f8"): 0x0E}


def idx_bytes(array, code=None, dims=None):
    """The IDX encoding of ``array`` (big-endian), optionally with a lying type code or dims."""
    big = array.astype(array.dtype.newbyteorder(">")) if array.dtype.itemsize > 1 else array
    code = CODES[big.dtype] if code is None else code
    dims = array.shape if dims is None else dims
    return bytes([0, 0, code, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + big.tobytes()


def write(path, data, gz=False):
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def images_and_labels(n=5, h=4, w=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, h, w), dtype=np.uint8), rng.integers(0, 10, n, dtype=np.uint8)


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("dtype", ["u1", "i1", ">i2", ">i4", ">f4", ">f8"])
def test_reads_every_type_in_native_byte_order(tmp_path, dtype, gz):
    values = np.arange(24).reshape(2, 3, 4) * 7 - (0 if dtype == "u1" else 50)  # -50..111 fits every type
    array = values.astype(np.dtype(dtype).newbyteorder("="))
    got = read_idx(write(tmp_path / "a.idx", idx_bytes(array), gz))
    np.testing.assert_array_equal(got, array)
    assert got.dtype.isnative and got.shape == (2, 3, 4)


def test_gzip_is_detected_by_magic_not_name(tmp_path):
    images, _ = images_and_labels()
    np.testing.assert_array_equal(read_idx(write(tmp_path / "plain-name", idx_bytes(images), gz=True)), images)
    np.testing.assert_array_equal(read_idx(write(tmp_path / "looks.gz", idx_bytes(images))), images)


def test_header_alone(tmp_path):
    images, _ = images_and_labels(n=7)
    assert read_idx_header(write(tmp_path / "a.gz", idx_bytes(images), gz=True)) == (0x08, (7, 4, 3))


def test_load_idx_pair_scales_and_adds_a_channel(tmp_path):
    images, labels = images_and_labels()
    ds = load_idx_pair(write(tmp_path / "i", idx_bytes(images)), write(tmp_path / "l", idx_bytes(labels), gz=True))
    assert isinstance(ds, ArrayDataset) and ds.x.shape == (5, 1, 4, 3) and ds.x.dtype == np.float32
    assert ds.x.flags.c_contiguous and ds.y.dtype == np.int64 and ds.classes == 10
    np.testing.assert_array_equal(ds.x[:, 0] * 255, images.astype(np.float32))
    np.testing.assert_array_equal(ds.y, labels)


def test_wrong_kind_of_idx_file_names_both_magics(tmp_path):
    _, labels = images_and_labels()
    path = write(tmp_path / "train-images-idx3-ubyte.gz", idx_bytes(labels.reshape(5, 1)), gz=True)
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte.gz: bad magic number 0x00000802, "
                                        r"expected 0x00000803 \(unsigned byte, 3 dims\)"):
        load_idx_pair(path, path)


@pytest.mark.parametrize("header, message", [
    (b"\x00", r"file is 1 bytes, shorter than the 4-byte IDX magic"),
    (b"", r"file is 0 bytes"),
    (b"\x01\x00\x08\x01\x00\x00\x00\x01\x05", r"bad magic number 0x01000801, an IDX file starts with two zero"),
    (b"\x00\x00\x07\x01\x00\x00\x00\x01\x05", r"unknown IDX type code 0x07"),
    (b"\x00\x00\x08\x00", r"declares 0 dims, expected 1 to 4"),
    (b"\x00\x00\x08\x05" + b"\x00\x00\x00\x01" * 5 + b"\x00", r"declares 5 dims, expected 1 to 4"),
    (b"\x00\x00\x08\x03\x00\x00\x00\x01\x00\x00", r"file ends inside the header \(10 of 16 bytes\)"),
])
@pytest.mark.parametrize("gz", [False, True])
def test_bad_headers(tmp_path, header, message, gz):
    with pytest.raises(DataError, match=message):
        read_idx(write(tmp_path / "f", header, gz))


@pytest.mark.parametrize("gz", [False, True])
def test_header_and_payload_size_disagree(tmp_path, gz):
    images, _ = images_and_labels(n=3)
    data = idx_bytes(images)
    with pytest.raises(DataError, match=r"f: header declares 3 images of 4x3 \(36 bytes\) but the .* holds 20 bytes "
                                        r"after the 16-byte header"):
        read_idx(write(tmp_path / "f", data[:36], gz))
    with pytest.raises(DataError, match=r"declares 3 images of 4x3 \(36 bytes\) but the .* holds (more than 36|37) "):
        read_idx(write(tmp_path / "f", data + b"\x00", gz))


@pytest.mark.parametrize("gz", [False, True])
def test_absurd_dims_fail_fast_without_allocating(tmp_path, gz):
    data = bytes([0, 0, 0x0E, 3]) + struct.pack(">III", 2**31, 2**31, 2**31) + b"\x00" * 64
    path = write(tmp_path / "huge", data, gz)
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(DataError, match=r"header declares 2147483648 images of 2147483648x2147483648"):
            read_idx(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - start < 1.0
    assert peak < 4 << 20


def test_truncated_and_corrupt_gzip(tmp_path):
    images, _ = images_and_labels(n=50, h=28, w=28)
    packed = gzip.compress(idx_bytes(images))
    with pytest.raises(DataError, match=r"t.gz: truncated gzip stream$"):
        read_idx(write(tmp_path / "t.gz", packed[:len(packed) // 2]))
    corrupt = bytearray(packed)
    corrupt[-6] ^= 0xFF  # inside the CRC-32 trailer
    with pytest.raises(DataError, match=r"c.gz: corrupt gzip stream"):
        read_idx(write(tmp_path / "c.gz", bytes(corrupt)))


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match=r"nope: cannot read"):
        read_idx(tmp_path / "nope")


def test_label_out_of_range_and_count_mismatch(tmp_path):
    images, labels = images_and_labels(n=8)
    labels[5] = 12
    img = write(tmp_path / "img", idx_bytes(images))
    with pytest.raises(DataError, match=r"lab: label 12 at index 5 is outside \[0, 10\)"):
        load_idx_pair(img, write(tmp_path / "lab", idx_bytes(labels)))
    with pytest.raises(DataError, match=r"img holds 8 images but .*lab7 holds 7 labels"):
        load_idx_pair(img, write(tmp_path / "lab7", idx_bytes(labels[:7])))


VALID = idx_bytes(images_and_labels(n=4, h=3, w=2)[0])


@settings(max_examples=60, deadline=None)
@given(cut=st.integers(0, len(VALID)), flips=st.lists(st.tuples(st.integers(0, len(VALID) - 1),
                                                                  st.integers(1, 255)), max_size=4),
       gz=st.booleans(), mutate_compressed=st.booleans())
def test_mutated_files_give_an_array_or_a_data_error(tmp_path_factory, cut, flips, gz, mutate_compressed):
    data = gzip.compress(VALID) if gz and mutate_compressed else VALID
    data = bytearray(data[:cut * len(data) // len(VALID)])
    for at, bits in flips:
        if at < len(data):
            data[at] ^= bits
    data = gzip.compress(bytes(data)) if gz and not mutate_compressed else bytes(data)
    path = tmp_path_factory.mktemp("idx") / "mutated"
    path.write_bytes(data)
    try:
        array = read_idx(path)
    except DataError as e:
        assert "\n" not in str(e) and str(path) in str(e)
    else:
        assert 1 <= array.ndim <= 4 and array.dtype.isnative
