"""nntrain.data.finder: data sets by name (search order, messages) and by path (each kind of file)."""

import gzip
import os
import struct

import numpy as np
import pytest

from nntrain.data import DataError, available_datasets, find_dataset, load_path
from nntrain.data import finder

DEBIAN_FASHION_MNIST = "/usr/share/datasets/fashion-mnist"


def idx_bytes(array):
    return bytes([0, 0, 0x08, array.ndim]) + b"".join(struct.pack(">I", d) for d in array.shape) + array.tobytes()


def make_idx_folder(folder, n_train=6, n_test=4, gz=True, sep="-", test=True):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(len(str(folder)))
    roles = [("train", n_train)] + ([("t10k", n_test)] if test else [])
    for role, n in roles:
        for kind, array in (("images", rng.integers(0, 256, (n, 5, 5), dtype=np.uint8)),
                            ("labels", rng.integers(0, 10, n, dtype=np.uint8))):
            name = f"{role}-{kind}{sep}idx{3 if kind == 'images' else 1}-ubyte" + (".gz" if gz else "")
            data = idx_bytes(array)
            (folder / name).write_bytes(gzip.compress(data) if gz else data)
    return folder


@pytest.fixture
def places(tmp_path, monkeypatch):
    """An isolated search path: $NNTRAIN_DATA, $HOME/.cache/nntrain and the system folder all under tmp_path."""
    monkeypatch.setenv("NNTRAIN_DATA", str(tmp_path / "env"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setattr(finder, "SYSTEM_DATA_DIR", str(tmp_path / "system"))
    return {"env": tmp_path / "env", "cache": tmp_path / "home" / ".cache" / "nntrain", "system": tmp_path / "system"}


def test_digits_needs_no_files(places):
    splits = find_dataset("digits")
    assert len(splits.train) == 1437 and len(splits.test) == 360


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(DataError, match=r"unknown data set 'imagenet'; known: digits, mnist, fashion-mnist, cifar10"):
        find_dataset("imagenet")


def test_not_found_lists_the_places_and_how_to_get_it(places):
    with pytest.raises(DataError) as e:
        find_dataset("fashion-mnist")
    message = str(e.value)
    assert "\n" not in message and "fashion-mnist: not found; looked in" in message
    for place in ("env", "cache", "system"):
        assert str(places[place] / "fashion-mnist") in message
    assert "apt-get install dataset-fashion-mnist" in message


def test_search_order_env_then_cache_then_system(places):
    make_idx_folder(places["system"] / "mnist", n_train=3)
    assert len(find_dataset("mnist").train) == 3
    make_idx_folder(places["cache"] / "mnist", n_train=4)
    assert len(find_dataset("mnist").train) == 4
    make_idx_folder(places["env"] / "mnist", n_train=5)
    splits = find_dataset("MNIST")
    assert len(splits.train) == 5 and len(splits.test) == 4 and splits.class_names == [str(d) for d in range(10)]
    assert len(find_dataset("mnist", path=places["cache"] / "mnist").train) == 4


def test_names_and_sizes_of_what_is_available(places):
    make_idx_folder(places["cache"] / "fashion-mnist", n_train=7, n_test=2)
    found = available_datasets()
    assert found[0] == ("digits", "embedded", {"train": 1437, "test": 360})
    assert found[1] == ("fashion-mnist", str(places["cache"] / "fashion-mnist"), {"train": 7, "test": 2})
    assert len(found) == 2
    splits = find_dataset("fashion_mnist")
    assert splits.class_names[0] == "T-shirt/top" and splits.class_names[9] == "Ankle boot"


@pytest.mark.parametrize("gz, sep", [(True, "-"), (False, "-"), (False, ".")])
def test_idx_folder_naming_variants(tmp_path, gz, sep):
    splits = load_path(make_idx_folder(tmp_path / "my-fashion", gz=gz, sep=sep))
    assert splits.name == "my-fashion" and splits.train.x.shape == (6, 1, 5, 5) and splits.test.x.shape == (4, 1, 5, 5)
    assert splits.class_names[0] == "T-shirt/top"


def test_idx_folder_without_test_files(tmp_path):
    splits = load_path(make_idx_folder(tmp_path / "d", test=False))
    assert splits.test is None and splits.class_names is None


def test_idx_folder_missing_labels(tmp_path):
    folder = make_idx_folder(tmp_path / "d")
    os.remove(folder / "t10k-labels-idx1-ubyte.gz")
    with pytest.raises(DataError, match=r"has t10k-images-idx3-ubyte.gz but no t10k-labels"):
        load_path(folder)
    os.remove(folder / "train-labels-idx1-ubyte.gz")
    with pytest.raises(DataError, match=r"has train-images-idx3-ubyte.gz but no train-labels-idx1-ubyte"):
        load_path(folder)


def test_cifar_folder(places):
    folder = places["env"] / "cifar10"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{k}" for k in range(1, 6)] + ["test_batch"]:
        records = np.concatenate([rng.integers(0, 10, (2, 1)), rng.integers(0, 256, (2, 3072))], axis=1)
        (folder / (name + ".bin")).write_bytes(records.astype(np.uint8).tobytes())
    splits = find_dataset("cifar-10")
    assert splits.train.x.shape == (10, 3, 32, 32) and len(splits.test) == 2 and splits.class_names[0] == "airplane"
    assert ("cifar10", str(folder), {"train": 10, "test": 2}) in available_datasets()


def test_npz_and_csv_paths(tmp_path):
    np.savez(tmp_path / "a.npz", x_train=np.zeros((3, 2)), y_train=np.array([0, 1, 1]))
    assert len(load_path(tmp_path / "a.npz").train) == 3
    (tmp_path / "b.csv").write_text("label,a\n1,0.5\n0,0.25\n")
    splits = load_path(tmp_path / "b.csv")
    assert splits.name == "b.csv" and len(splits.train) == 2 and splits.test is None


@pytest.mark.parametrize("make, message", [
    (lambda p: p, r"no such file or folder"),
    (lambda p: (p.mkdir(), p)[1],
     r"holds neither MNIST-style IDX files .*, CIFAR-10 batches .* nor images in one subfolder per class"),
    (lambda p: (p.write_text("x"), p)[1], r"not a data file nntrain reads"),
])
def test_unusable_paths(tmp_path, make, message):
    with pytest.raises(DataError, match=message):
        load_path(make(tmp_path / "thing"))


@pytest.mark.skipif(not os.path.isdir(DEBIAN_FASHION_MNIST), reason="Debian's dataset-fashion-mnist not installed")
def test_debian_fashion_mnist(monkeypatch, tmp_path):
    monkeypatch.delenv("NNTRAIN_DATA", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    splits = find_dataset("fashion-mnist")
    assert splits.train.x.shape == (60000, 1, 28, 28) and splits.test.x.shape == (10000, 1, 28, 28)
    assert splits.train.x.dtype == np.float32 and 0 <= splits.train.x.min() and splits.train.x.max() == 1
    # Published facts about the set: its first labels and its exact balance (6,000 / 1,000 per class).
    assert splits.train.y[:10].tolist() == [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]
    assert np.bincount(splits.train.y).tolist() == [6000] * 10 and np.bincount(splits.test.y).tolist() == [1000] * 10
    assert splits.class_names == finder.FASHION_MNIST_CLASS_NAMES
    assert ("fashion-mnist", DEBIAN_FASHION_MNIST, {"train": 60000, "test": 10000}) in available_datasets()
