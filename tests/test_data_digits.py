"""nntrain.data.digits: the embedded 8×8 digits and their fixed train/test split."""

import hashlib
from importlib import resources

import numpy as np
import pytest

from nntrain.data import load_digits

# sha256 of sklearn/datasets/data/digits.csv.gz as scikit-learn ships it: the file is copied verbatim.
DIGITS_SHA256 = "09f66e6debdee2cd2b5ae59e0d6abbb73fc2b0e0185d2e1957e9ebb51e23aa22"


def test_shipped_file_is_the_unchanged_original_with_its_license():
    package = resources.files("nntrain.data")
    assert hashlib.sha256(package.joinpath("digits.csv.gz").read_bytes()).hexdigest() == DIGITS_SHA256
    license_text = package.joinpath("DIGITS_LICENSE.txt").read_text()
    assert "CC BY 4.0" in license_text and "10.24432/C50P49" in license_text and "Alpaydin" in license_text


def test_fixed_split_shapes_and_values():
    splits = load_digits()
    assert splits.name == "digits" and splits.val is None
    assert splits.train.x.shape == (1437, 1, 8, 8) and splits.test.x.shape == (360, 1, 8, 8)
    assert splits.train.x.dtype == np.float32 and splits.train.y.dtype == np.int64
    x = np.concatenate([splits.train.x, splits.test.x])
    assert x.min() == 0 and x.max() == 1
    np.testing.assert_array_equal(x * 16, np.round(x * 16))  # pixel counts 0..16, divided by 16
    assert splits.classes == 10 and splits.class_names == [str(d) for d in range(10)]
    # Every class appears on both sides of the fixed split.
    assert set(splits.train.y.tolist()) == set(splits.test.y.tolist()) == set(range(10))


def test_the_split_is_every_fifth_row_for_test():
    # The file's rows start 0, 1, 2, 3, 4, 5, ...: row 0 (a 0) and row 5 (a 5) are test, rows 1-4 train.
    splits = load_digits()
    assert splits.test.y[:2].tolist() == [0, 5]
    assert splits.train.y[:4].tolist() == [1, 2, 3, 4]
    first = splits.test.x[0, 0] * 16
    assert first[0].tolist() == [0, 0, 5, 13, 9, 1, 0, 0]
    again = load_digits(seed=123)
    np.testing.assert_array_equal(again.test.x, splits.test.x)


def test_val_is_carved_from_train_only():
    plain, with_val = load_digits(), load_digits(val_fraction=0.2, seed=3)
    assert len(with_val.train) + len(with_val.val) == 1437 and len(with_val.val) == 287
    np.testing.assert_array_equal(with_val.test.x, plain.test.x)
    train_rows = {r.tobytes() for r in plain.train.x}
    assert all(r.tobytes() in train_rows for r in with_val.val.x)
    other = load_digits(val_fraction=0.2, seed=4)
    assert not np.array_equal(other.val.y, with_val.val.y)
    np.testing.assert_array_equal(load_digits(val_fraction=0.2, seed=3).val.x, with_val.val.x)


def test_bad_val_fraction():
    with pytest.raises(ValueError, match=r"val_fraction must be in \(0, 1\), got 1.5"):
        load_digits(val_fraction=1.5)
