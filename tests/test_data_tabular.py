"""nntrain.data.tabular: .npz archives (never unpickled) and label,value,... CSV files."""

import gzip
import io
import time
import zipfile

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from nntrain.data import DataError, load_npz, read_csv, read_npz


def test_npz_float_x_is_kept_and_classes_inferred(tmp_path):
    x = np.random.default_rng(0).normal(size=(6, 5))
    np.savez(tmp_path / "d.npz", x=x, y=np.array([0, 1, 4, 1, 0, 2]))
    ds = read_npz(tmp_path / "d.npz")
    assert ds.x.dtype == np.float32 and ds.x.shape == (6, 5) and ds.classes == 5
    np.testing.assert_allclose(ds.x, x, rtol=1e-6)
    assert read_npz(tmp_path / "d.npz", classes=7).classes == 7


def test_npz_uint8_images_are_scaled_and_get_a_channel(tmp_path):
    x = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4) * 10
    np.savez_compressed(tmp_path / "d.npz", x=x, y=np.array([1, 0], np.uint8))
    ds = read_npz(tmp_path / "d.npz")
    assert ds.x.shape == (2, 1, 3, 4) and ds.y.dtype == np.int64
    np.testing.assert_array_equal(ds.x[:, 0] * 255, x.astype(np.float32))


def test_npz_splits_share_one_class_count(tmp_path):
    rng = np.random.default_rng(1)
    np.savez(tmp_path / "s.npz", x_train=rng.normal(size=(8, 3)), y_train=np.arange(8) % 3,
             x_test=rng.normal(size=(4, 3)), y_test=np.array([0, 1, 5, 1]))
    splits = load_npz(tmp_path / "s.npz")
    assert splits.name == "s" and splits.val is None
    assert len(splits.train) == 8 and len(splits.test) == 4 and splits.train.classes == splits.test.classes == 6
    assert load_npz(tmp_path / "s.npz").test.y.tolist() == [0, 1, 5, 1]
    np.savez(tmp_path / "xy.npz", x=np.zeros((2, 2)), y=np.array([0, 1]))
    assert len(load_npz(tmp_path / "xy.npz").train) == 2


@pytest.mark.parametrize("arrays, message", [
    (dict(x=np.array([[1.0, 2.0], [3.0, 4.0], [np.nan, 0.0]]), y=np.array([0, 1, 0])), r"x\[2\] holds a non-finite"),
    (dict(x=np.array([[1.0], [np.inf]]), y=np.array([0, 1])), r"x\[1\] holds a non-finite"),
    (dict(x=np.array([[1e39], [0.0]]), y=np.array([0, 1])), r"x\[0\] holds a non-finite .*beyond float32"),
    (dict(x=np.zeros((2, 2)), y=np.array([0.0, 1.0])), r"y must hold integer labels, got dtype float64"),
    (dict(x=np.zeros((2, 2)), y=np.array([0, -1])), r"y\[1\] = -1 is a negative label"),
    (dict(x=np.zeros((2, 2)), y=np.array([[0], [1]])), r"y must have shape \(N,\), got \(2, 1\)"),
    (dict(x=np.zeros((3, 2)), y=np.array([0, 1])), r"x has shape \(3, 2\) but there are 2 labels"),
    (dict(x=np.array([["a"], ["b"]]), y=np.array([0, 1])), r"x must hold numbers, got dtype <U1"),
    (dict(images=np.zeros((2, 2)), labels=np.array([0, 1])), r"expected arrays x and y .*found images, labels"),
    (dict(x=np.zeros((2, 2))), r"expected arrays x and y .*found x$"),
])
def test_bad_npz(tmp_path, arrays, message):
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(DataError, match=r"bad.npz.*" + message):
        read_npz(tmp_path / "bad.npz")


def test_npz_labels_beyond_given_classes(tmp_path):
    np.savez(tmp_path / "d.npz", x=np.zeros((3, 1)), y=np.array([0, 3, 1]))
    with pytest.raises(DataError, match=r"label 3 at index 1 is outside \[0, 3\)"):
        read_npz(tmp_path / "d.npz", classes=3)


def test_npz_object_arrays_are_never_unpickled(tmp_path):
    np.savez(tmp_path / "o.npz", x=np.array([[1], "a"], dtype=object), y=np.array([0, 1]))
    with pytest.raises(DataError, match=r"array 'x' holds Python objects, which would need pickle"):
        read_npz(tmp_path / "o.npz")


def test_not_an_npz(tmp_path):
    (tmp_path / "p.npz").write_bytes(b"\x80\x04K\x01.")  # a pickle
    with pytest.raises(DataError, match=r"p.npz: not a readable .npz archive"):
        read_npz(tmp_path / "p.npz")
    np.save(tmp_path / "a.npy", np.zeros(3))
    with pytest.raises(DataError, match=r"a single .npy array"):
        read_npz(tmp_path / "a.npy")
    with pytest.raises(DataError, match=r"none.npz: no such file"):
        read_npz(tmp_path / "none.npz")


def npz_with_header(shape):
    """An .npz whose x.npy header declares ``shape`` over a few bytes of data."""
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": "<f8", "fortran_order": False, "shape": shape})
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("x.npy", buf.getvalue() + bytes(64))
        z.writestr("y.npy", _npy(np.array([0, 1])))
    return out.getvalue()


def _npy(array):
    buf = io.BytesIO()
    np.save(buf, array)
    return buf.getvalue()


def test_npz_absurd_shape_fails_before_allocating(tmp_path):
    (tmp_path / "huge.npz").write_bytes(npz_with_header((2**31, 2**31)))
    start = time.perf_counter()
    with pytest.raises(DataError, match=r"array 'x' declares shape \(2147483648, 2147483648\) of float64 "
                                        r"\(36893488147419103232 bytes\) but its archive member holds"):
        read_npz(tmp_path / "huge.npz")
    assert time.perf_counter() - start < 1.0


def write_csv(path, text, gz=False):
    data = text.encode()
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


@pytest.mark.parametrize("gz", [False, True])
def test_csv_with_header_and_pixels(tmp_path, gz):
    ds = read_csv(write_csv(tmp_path / "d.csv", "label,p1,p2,p3\n2,0,255,51\n0,10,0,0\n\n1,1,2,3\n", gz))
    assert ds.x.shape == (3, 3) and ds.x.dtype == np.float32 and ds.classes == 3
    np.testing.assert_allclose(ds.x[0], [0, 1, 0.2], rtol=1e-6)
    assert ds.y.tolist() == [2, 0, 1]


def test_csv_without_header_and_unscaled_values(tmp_path):
    floats = read_csv(write_csv(tmp_path / "f.csv", "1,0.5,-2.25\n0,3,4\n"))
    np.testing.assert_array_equal(floats.x, [[0.5, -2.25], [3, 4]])
    binary = read_csv(write_csv(tmp_path / "b.csv", "1,0,1\n0,1,1\n"), classes=4)
    np.testing.assert_array_equal(binary.x, [[0, 1], [1, 1]])
    assert binary.classes == 4
    last = read_csv(write_csv(tmp_path / "l.csv", "0.5,7,3\n0.25,8,1\n"), label_column=-1)
    assert last.y.tolist() == [3, 1] and last.x.tolist() == [[0.5, 7], [0.25, 8]]


def test_csv_header_can_be_forced(tmp_path):
    path = write_csv(tmp_path / "h.csv", "7,8,9\n1,2,3\n")
    assert len(read_csv(path, has_header=True)) == 1 and len(read_csv(path)) == 2


@pytest.mark.parametrize("text, message", [
    ("label,a,b\n1,2,3\n0,4,5\n1,6\n", r"line 4 has 2 fields, line 2 has 3"),
    ("1,2,3\n\n0,4,5,6\n", r"line 3 has 4 fields, line 1 has 3"),
    ("1,2,3\n0,4,x5\n", r"line 2: 'x5' is not a number"),
    ("1,2,3\n0,,5\n", r"line 2: '' is not a number"),
    ("1,2,3\n0,4,nan\n", r"line 2 holds a non-finite value"),
    ("1,2,3\n-1,4,5\n", r"line 2: label -1 is not a non-negative integer"),
    ("a,b\n1,2\n1.5,4\n", r"line 3: label 1.5 is not a non-negative integer"),
    ("1.0,2\n\n\n2.5,4\n", r"line 4: label 2.5 is not a non-negative integer"),
    ("1\n0\n", r"line 1: a row needs a label and at least one value"),
    ("label,a\n", r"a header but no rows"),
    ("\n\n", r"no rows"),
])
def test_bad_csv(tmp_path, text, message):
    with pytest.raises(DataError, match=r"bad.csv: " + message):
        read_csv(write_csv(tmp_path / "bad.csv", text))


def test_csv_labels_beyond_given_classes(tmp_path):
    with pytest.raises(DataError, match=r"line 3: label 5 is outside \[0, 3\)"):
        read_csv(write_csv(tmp_path / "c.csv", "y,a\n1,2\n5,3\n"), classes=3)


def test_csv_of_thousands_of_rows_is_fast(tmp_path):
    rng = np.random.default_rng(0)
    table = np.concatenate([rng.integers(0, 10, (5000, 1)), rng.integers(0, 256, (5000, 784))], axis=1)
    path = tmp_path / "big.csv"
    np.savetxt(path, table, fmt="%d", delimiter=",", header="label," + ",".join(f"p{i}" for i in range(784)),
               comments="")
    start = time.perf_counter()
    ds = read_csv(path)
    assert time.perf_counter() - start < 5.0
    assert ds.x.shape == (5000, 784) and ds.y.tolist() == table[:, 0].tolist()
    np.testing.assert_allclose(ds.x * 255, table[:, 1:], rtol=1e-5)


def mutate(valid, cut, flips):
    data = bytearray(valid[:round(cut * len(valid))] if cut < 0.5 else valid)
    for at, bits in flips:
        if data:
            data[min(int(at * len(data)), len(data) - 1)] ^= bits
    return bytes(data)


MUTATIONS = dict(cut=st.floats(0, 1), flips=st.lists(st.tuples(st.floats(0, 1), st.integers(1, 255)), max_size=4))
VALID_CSV = b"label,a,b,c\n1,0,255,3\n0,4,5,6\n2,7,8,9\n"


def _valid_npz():
    out = io.BytesIO()
    np.savez(out, x=np.arange(6, dtype=np.uint8).reshape(3, 2), y=np.array([0, 2, 1], np.uint8))
    return out.getvalue()


VALID_NPZ = _valid_npz()


@settings(max_examples=60, deadline=None)
@given(**MUTATIONS)
def test_mutated_npz_gives_a_dataset_or_a_data_error(tmp_path_factory, cut, flips):
    path = tmp_path_factory.mktemp("npz") / "m.npz"
    path.write_bytes(mutate(VALID_NPZ, cut, flips))
    try:
        ds = read_npz(path)
    except DataError as e:
        assert "\n" not in str(e)
    else:
        assert np.isfinite(ds.x).all() and (ds.y < ds.classes).all()


@settings(max_examples=60, deadline=None)
@given(**MUTATIONS)
def test_mutated_csv_gives_a_dataset_or_a_data_error(tmp_path_factory, cut, flips):
    path = tmp_path_factory.mktemp("csv") / "m.csv"
    path.write_bytes(mutate(VALID_CSV, cut, flips))
    try:
        ds = read_csv(path)
    except DataError as e:
        assert "\n" not in str(e)
    else:
        assert np.isfinite(ds.x).all() and (ds.y < ds.classes).all()


def test_regression_targets_from_npz_and_csv(tmp_path):
    from nntrain.data import Normalizer, split

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(20, 3)).astype(np.float32), rng.normal(size=20)
    np.savez(tmp_path / "r.npz", x=x, y=y)
    ds = load_npz(tmp_path / "r.npz", regression=True).train
    assert ds.regression and ds.y.shape == (20, 1) and ds.y.dtype == np.float32 and ds.classes == 1
    np.testing.assert_array_equal(ds.y[:, 0], y.astype(np.float32))
    train, val = split(ds, 0.25, seed=0)
    assert train.regression and val.regression and val.y.shape == (5, 1)
    assert Normalizer.fit(train)(val).regression  # normalising x keeps the targets
    np.savetxt(tmp_path / "r.csv", np.c_[y, x], delimiter=",")
    from_csv = read_csv(tmp_path / "r.csv", regression=True)
    np.testing.assert_allclose(from_csv.y[:, 0], y, rtol=1e-6)
    np.testing.assert_allclose(from_csv.x, x, rtol=1e-6)
    np.savez(tmp_path / "two.npz", x_train=x, y_train=np.zeros((20, 2)), x_test=x, y_test=np.zeros((20, 3)))
    with pytest.raises(DataError, match=r"two\.npz: the splits' targets have different numbers of columns"):
        load_npz(tmp_path / "two.npz", regression=True)


def test_regression_targets_are_checked():
    from nntrain.data import ArrayDataset

    x = np.zeros((4, 2), np.float32)
    assert ArrayDataset(x, np.zeros((4, 3)), regression=True).classes == 3
    with pytest.raises(DataError, match=r"3 target columns, but 2 outputs were asked for"):
        ArrayDataset(x, np.zeros((4, 3)), classes=2, regression=True)
    with pytest.raises(DataError, match=r"targets must have shape \(N,\) or \(N, D\) for 4 inputs, got \(3,\)"):
        ArrayDataset(x, np.zeros(3), regression=True)
    with pytest.raises(DataError, match=r"targets holds a non-finite value .* in example 2"):
        ArrayDataset(x, np.array([0.0, 1.0, np.inf, 2.0]), regression=True)
    with pytest.raises(DataError, match=r"regression targets have no class names"):
        ArrayDataset(x, np.zeros(4), class_names=["a"], regression=True)
    with pytest.raises(DataError, match=r"regression targets must be numbers, got dtype <U1"):
        ArrayDataset(x, np.array(list("abcd")), regression=True)
