"""nntrain.data.cifar: both CIFAR-10 versions, and a pickle reader that builds nothing but arrays."""

import pickle
import struct

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from nntrain.data import DataError, load_cifar10, read_cifar_batch
from nntrain.data.cifar import CLASS_NAMES, load_pickle


def py2_string(b):
    """A Python 2 str as Python 2's pickler wrote it (SHORT_BINSTRING / BINSTRING)."""
    return b"U" + bytes([len(b)]) + b if len(b) < 256 else b"T" + struct.pack("<i", len(b)) + b


def py2_int(v):
    return b"J" + struct.pack("<i", v)


def py2_pickle_batch(data, labels):
    """A batch pickled the way the real CIFAR-10 files were: Python 2, protocol 2, numpy.core globals."""
    array = (b"cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\n" + py2_int(0) + b"\x85" + py2_string(b"b")
             + b"\x87R(" + py2_int(1) + b"(" + b"".join(py2_int(d) for d in data.shape) + b"t"
             + b"cnumpy\ndtype\n" + py2_string(b"u1") + py2_int(0) + py2_int(1) + b"\x87R"
             + b"(" + py2_int(3) + py2_string(b"|") + b"NNN" + py2_int(-1) + py2_int(-1) + py2_int(0) + b"tb"
             + b"\x89" + py2_string(data.tobytes()) + b"tb")
    label_list = b"](" + b"".join(py2_int(v) for v in labels) + b"e"
    return (b"\x80\x02}(" + py2_string(b"batch_label") + py2_string(b"training batch 1 of 5")
            + py2_string(b"data") + array + py2_string(b"labels") + label_list + b"u.")


def batch(n, seed):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 3072), dtype=np.uint8), [int(v) for v in rng.integers(0, 10, n)]


def make_python_folder(folder, n=3, meta=True):
    folder.mkdir(parents=True, exist_ok=True)
    parts = {}
    for i, name in enumerate([f"data_batch_{k}" for k in range(1, 6)] + ["test_batch"]):
        parts[name] = batch(n, i)
        (folder / name).write_bytes(py2_pickle_batch(*parts[name]))
    if meta:
        names = b"](" + b"".join(py2_string(n.encode()) for n in CLASS_NAMES[::-1]) + b"e"
        (folder / "batches.meta").write_bytes(b"\x80\x02}(" + py2_string(b"label_names") + names + b"u.")
    return parts


def make_binary_folder(folder, n=3):
    folder.mkdir(parents=True, exist_ok=True)
    parts = {}
    for i, name in enumerate([f"data_batch_{k}" for k in range(1, 6)] + ["test_batch"]):
        data, labels = parts[name] = batch(n, i)
        records = np.concatenate([np.array(labels, np.uint8)[:, None], data], axis=1)
        (folder / (name + ".bin")).write_bytes(records.tobytes())
    (folder / "batches.meta.txt").write_text("\n".join(CLASS_NAMES) + "\n\n")
    return parts


def check_splits(splits, parts, class_names):
    train_data = np.concatenate([parts[f"data_batch_{k}"][0] for k in range(1, 6)])
    train_labels = sum((parts[f"data_batch_{k}"][1] for k in range(1, 6)), [])
    assert splits.train.x.shape == (15, 3, 32, 32) and splits.train.x.dtype == np.float32
    assert splits.test.x.shape == (3, 3, 32, 32) and splits.val is None
    # Channel-major rows: the first 1024 bytes are the red plane, row by row.
    np.testing.assert_array_equal(splits.train.x * 255, train_data.reshape(15, 3, 32, 32).astype(np.float32))
    np.testing.assert_array_equal(splits.train.y, train_labels)
    np.testing.assert_array_equal(splits.test.y, parts["test_batch"][1])
    assert splits.train.class_names == class_names and splits.classes == 10


def test_python_version_pickled_by_python2(tmp_path):
    parts = make_python_folder(tmp_path / "cifar-10-batches-py")
    check_splits(load_cifar10(tmp_path / "cifar-10-batches-py"), parts, CLASS_NAMES[::-1])


def test_folder_holding_the_unpacked_archive(tmp_path):
    parts = make_python_folder(tmp_path / "cifar-10-batches-py", meta=False)
    check_splits(load_cifar10(tmp_path), parts, CLASS_NAMES)


def test_binary_version(tmp_path):
    parts = make_binary_folder(tmp_path / "bin")
    check_splits(load_cifar10(tmp_path / "bin"), parts, CLASS_NAMES)


@pytest.mark.parametrize("protocol", [2, 4])
def test_batches_repickled_by_python3(tmp_path, protocol):
    data, labels = batch(4, 0)
    (tmp_path / "b").write_bytes(pickle.dumps({"data": data, "labels": labels}, protocol=protocol))
    ds = read_cifar_batch(tmp_path / "b")
    np.testing.assert_array_equal(ds.y, labels)
    np.testing.assert_array_equal(ds.x.reshape(4, -1) * 255, data.astype(np.float32))


def test_missing_batches_are_named(tmp_path):
    make_python_folder(tmp_path)
    (tmp_path / "data_batch_3").unlink()
    (tmp_path / "test_batch").unlink()
    with pytest.raises(DataError, match=r"missing data_batch_3, test_batch \(a CIFAR-10 folder holds"):
        load_cifar10(tmp_path)


def test_a_pickle_that_runs_a_command_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    evil = b"cos\nsystem\n(S'touch " + str(marker).encode() + b"'\ntR."
    (tmp_path / "data_batch_1").write_bytes(evil)
    with pytest.raises(DataError, match=r"data_batch_1: refusing to load: the pickle asks for os.system"):
        read_cifar_batch(tmp_path / "data_batch_1")
    assert not marker.exists()


@pytest.mark.parametrize("payload, message", [
    (b"cbuiltins\neval\n(S'1'\ntR.", r"asks for builtins.eval"),
    (b"csubprocess\ncall\n(S'true'\ntR.", r"asks for subprocess.call"),
    (b"c_codecs\nencode\n(X\x03\x00\x00\x00abcX\x05\x00\x00\x00rot13tR.", r"_codecs.encode with encoding 'rot13'"),
])
def test_other_dangerous_globals_are_refused(tmp_path, payload, message):
    (tmp_path / "b").write_bytes(payload)
    with pytest.raises(DataError, match=message):
        load_pickle(tmp_path / "b")


@pytest.mark.parametrize("content, message", [
    ({b"labels": [1]}, r"expected keys b'data' and b'labels', found b'labels'"),
    ([1, 2], r"expected a dict with data and labels, got list"),
    ({b"data": np.zeros((2, 3072), np.float32), b"labels": [1, 2]}, r"data must be a uint8 array of shape \(N, 3072\), "
                                                                    r"got float32 array of shape \(2, 3072\)"),
    ({b"data": np.zeros((2, 3000), np.uint8), b"labels": [1, 2]}, r"got uint8 array of shape \(2, 3000\)"),
    ({b"data": np.zeros((2, 3072), np.uint8), b"labels": [1]}, r"2 images but 1 labels"),
    ({b"data": np.zeros((2, 3072), np.uint8), b"labels": [1, 10]}, r"label 10 at index 1 is outside \[0, 10\)"),
    ({b"data": np.zeros((2, 3072), np.uint8), b"labels": [1, "a"]}, r"labels must be integers"),
])
def test_malformed_python_batches(tmp_path, content, message):
    (tmp_path / "data_batch_1").write_bytes(pickle.dumps(content, protocol=2))
    with pytest.raises(DataError, match=r"data_batch_1: .*" + message):
        read_cifar_batch(tmp_path / "data_batch_1")


def test_malformed_binary_batches(tmp_path):
    path = tmp_path / "data_batch_1.bin"
    path.write_bytes(bytes(3073 * 2 - 1))
    with pytest.raises(DataError, match=r"size 6145 bytes is not a whole number of 3073-byte records"):
        read_cifar_batch(path)
    path.write_bytes(bytes(3073) + bytes([10]) + bytes(3072))
    with pytest.raises(DataError, match=r"data_batch_1.bin: label 10 at index 1 is outside \[0, 10\)"):
        read_cifar_batch(path)


def test_truncated_pickle(tmp_path):
    data, labels = batch(2, 0)
    (tmp_path / "b").write_bytes(py2_pickle_batch(data, labels)[:-4000])
    with pytest.raises(DataError, match=r"b: not a readable CIFAR pickle"):
        read_cifar_batch(tmp_path / "b")


VALID_PICKLE = py2_pickle_batch(*batch(2, 0))
VALID_BINARY = np.concatenate([np.array([[3], [7]], np.uint8), batch(2, 1)[0]], axis=1).tobytes()


@settings(max_examples=60, deadline=None)
@given(binary=st.booleans(), cut=st.floats(0, 1), flips=st.lists(st.tuples(st.floats(0, 1), st.integers(1, 255)),
                                                                     max_size=4))
def test_mutated_batches_give_a_dataset_or_a_data_error(tmp_path_factory, binary, cut, flips):
    valid = VALID_BINARY if binary else VALID_PICKLE
    # Mutations land mostly in the structure of the pickle (its opcodes come before and after the pixels).
    data = bytearray(valid[:round(cut * len(valid))] if cut < 0.5 else valid)
    for at, bits in flips:
        if data:
            data[min(int(at * len(data)), len(data) - 1) if binary else int(at * 400) % len(data)] ^= bits
    path = tmp_path_factory.mktemp("cifar") / ("data_batch_1.bin" if binary else "data_batch_1")
    path.write_bytes(bytes(data))
    try:
        ds = read_cifar_batch(path)
    except DataError as e:
        assert "\n" not in str(e)
    else:
        assert ds.x.shape[1:] == (3, 32, 32) and ((ds.y >= 0) & (ds.y < 10)).all()
