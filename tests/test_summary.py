import numpy as np
import pytest

from nntrain import nn
from nntrain.model_summary import summary


def test_table_rows_shapes_and_counts(rng):
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1, rng=rng), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(64, 10, rng=rng))
    s = summary(model, (1, 8, 8))
    rows = [(r.name, r.input_shape, r.output_shape, r.params) for r in s.rows]
    assert rows == [("0", (1, 1, 8, 8), (1, 4, 8, 8), 40), ("1", (1, 4, 8, 8), (1, 4, 8, 8), 8),
                    ("2", (1, 4, 8, 8), (1, 4, 8, 8), 0), ("3", (1, 4, 8, 8), (1, 4, 4, 4), 0),
                    ("4", (1, 4, 4, 4), (1, 64), 0), ("5", (1, 64), (1, 10), 650)]
    assert s.trainable == 698 and s.non_trainable == 8
    text = str(s)
    assert "Layer" in text and "Input Shape" in text and "Output Shape" in text and "Param #" in text
    assert "(N, 4, 4, 4)" in text and "Trainable params: 698" in text


def test_nested_blocks_are_indented_and_summed(rng):
    model = nn.Sequential(nn.Linear(4, 4, rng=rng), nn.Residual(nn.Sequential(nn.Linear(4, 4, rng=rng), nn.ReLU())))
    s = summary(model, (4,))
    assert [r.name for r in s.rows] == ["0", "1", "1.block", "1.block.0", "1.block.1"]
    assert sum(r.params for r in s.rows) == s.trainable == 40
    assert model.training, "summary restores the mode"


def test_shapes_that_do_not_chain_name_the_layer(rng):
    model = nn.Sequential(nn.Flatten(), nn.Linear(10, 3, rng=rng))
    with pytest.raises(ValueError, match=r"layer 1 \(Linear\) cannot take input \(N, 64\)"):
        summary(model, (1, 8, 8))
