"""nntrain.data.collate.default_collate: examples into a batch, as PyTorch's default_collate."""

from collections import namedtuple

import numpy as np
import pytest
from PIL import Image

from nntrain.data import default_collate


def test_arrays_are_stacked_keeping_their_dtype():
    batch = default_collate([np.full((2, 3), i, np.float32) for i in range(4)])
    assert batch.shape == (4, 2, 3) and batch.dtype == np.float32 and batch.flags.c_contiguous
    assert default_collate([np.arange(3, dtype=np.uint8)] * 2).dtype == np.uint8
    assert default_collate([np.int32(1), np.int32(2)]).dtype == np.int32


def test_numbers_become_int64_or_float64_arrays():
    assert default_collate([1, 2, 3]).dtype == np.int64
    assert default_collate([1.5, 2.0]).dtype == np.float64
    assert default_collate([True, False]).dtype == bool


def test_structures_are_collated_field_by_field():
    pairs = default_collate([(np.zeros(2, np.float32), 1), (np.ones(2, np.float32), 0)])
    assert isinstance(pairs, tuple) and pairs[0].shape == (2, 2) and pairs[1].tolist() == [1, 0]
    lists = default_collate([[1, "a"], [2, "b"]])
    assert isinstance(lists, list) and lists[0].tolist() == [1, 2] and lists[1] == ["a", "b"]
    dicts = default_collate([{"x": np.zeros(1), "y": 3}, {"x": np.ones(1), "y": 4}])
    assert dicts["x"].shape == (2, 1) and dicts["y"].tolist() == [3, 4]
    Pair = namedtuple("Pair", "image label")
    named = default_collate([Pair(np.zeros(2), 1), Pair(np.ones(2), 2)])
    assert isinstance(named, Pair) and named.label.tolist() == [1, 2]


def test_mistakes_name_what_differs():
    with pytest.raises(ValueError, match=r"differ in shape: \(2,\) \(position 0\) and \(3,\) \(position 2\)"):
        default_collate([np.zeros(2), np.zeros(2), np.zeros(3)])
    with pytest.raises(TypeError, match=r"cannot batch examples of type Image \(add transforms.ToArray\(\)"):
        default_collate([Image.new("L", (2, 2))] * 2)
    with pytest.raises(ValueError, match="empty batch"):
        default_collate([])
