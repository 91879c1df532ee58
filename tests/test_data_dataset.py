"""nntrain.data.dataset: the map-style base, ArrayDataset, Subset, random_split, TransformedDataset."""

import numpy as np
import pytest

from nntrain.data import ArrayDataset, DataError, Dataset, DataSplits, Subset, random_split
from nntrain.data.dataset import TransformedDataset


def arrays(n=10):
    return ArrayDataset(np.arange(n, dtype=np.float32).reshape(n, 1), np.arange(n) % 4)


def test_the_base_class_asks_for_its_two_methods():
    with pytest.raises(NotImplementedError, match="Dataset must define __len__"):
        len(Dataset())
    with pytest.raises(NotImplementedError, match="must define __getitem__"):
        Dataset()[0]


def test_array_dataset_infers_classes_and_checks_as_before():
    ds = arrays()
    assert ds.classes == 4 and len(ds) == 10 and ds.input_shape == (1,)
    x, y = ds[7]
    assert x.tolist() == [7.0] and y == 3
    with pytest.raises(DataError, match=r"label 4 at index 2 is outside \[0, 3\)"):
        ArrayDataset(np.zeros((3, 1)), [0, 1, 4], 3, "toy")
    with pytest.raises(DataError, match="2 inputs but 3 labels"):
        ArrayDataset(np.zeros((2, 1)), [0, 1, 1])
    with pytest.raises(DataError, match="non-finite value"):
        ArrayDataset(np.array([[1.0], [np.nan]]), [0, 1])


def test_subset_views_examples_in_its_order():
    ds = arrays()
    part = Subset(ds, [9, 0, 4])
    assert len(part) == 3 and [int(part[i][0][0]) for i in range(3)] == [9, 0, 4]
    with pytest.raises(IndexError, match="index 10 is outside a data set of 10 examples"):
        Subset(ds, [10])


def test_random_split_by_counts_is_a_seeded_partition():
    parts = random_split(arrays(), [3, 7], generator=5)
    assert [len(p) for p in parts] == [3, 7]
    ids = sorted(int(p[i][0][0]) for p in parts for i in range(len(p)))
    assert ids == list(range(10))
    again = random_split(arrays(), [3, 7], generator=np.random.default_rng(5))
    assert again[0].indices.tolist() == parts[0].indices.tolist()


@pytest.mark.parametrize("fractions, lengths", [
    ([0.5, 0.5], [5, 5]), ([0.3, 0.3, 0.4], [3, 3, 4]), ([0.33, 0.33, 0.34], [4, 3, 3]),
    ([0.25, 0.25, 0.25, 0.25], [3, 3, 2, 2])])
def test_random_split_by_fractions_hands_out_the_remainder_like_pytorch(fractions, lengths):
    assert [len(p) for p in random_split(arrays(), fractions, generator=0)] == lengths


@pytest.mark.torch
@pytest.mark.parametrize("fractions", [[0.3, 0.3, 0.4], [0.1, 0.2, 0.7], [0.33, 0.33, 0.34]])
def test_random_split_lengths_match_pytorch(fractions):
    torch = pytest.importorskip("torch")
    expected = [len(p) for p in torch.utils.data.random_split(range(97), fractions)]
    assert [len(p) for p in random_split(arrays(97), fractions, generator=0)] == expected


def test_random_split_errors():
    with pytest.raises(ValueError, match="lengths sum to 9 but the data set has 10 examples"):
        random_split(arrays(), [4, 5])
    with pytest.raises(ValueError, match="non-negative integers or fractions"):
        random_split(arrays(), [-1, 11])


def test_transformed_dataset_changes_inputs_only():
    ds = TransformedDataset(arrays(), lambda x: x + 100)
    x, y = ds[2]
    assert x.tolist() == [102.0] and y == 2 and len(ds) == 10


def test_splits_take_shared_facts_from_train_unless_given():
    splits = DataSplits(train=arrays(), name="a")
    assert splits.classes == 4 and splits.input_shape == (1,) and splits.class_names is None
    given = DataSplits(train=Subset(arrays(), [1, 2]), num_classes=3, names=["x", "y", "z"], shape=(1, 2, 2))
    assert given.classes == 3 and given.class_names == ["x", "y", "z"] and given.input_shape == (1, 2, 2)
