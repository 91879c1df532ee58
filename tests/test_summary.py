import numpy as np
import pytest

import nntrain
from nntrain import nn
from nntrain.model_summary import summary


def test_table_rows_shapes_and_counts(rng):
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1, rng=rng), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(64, 10, rng=rng))
    s = summary(model, (1, 8, 8), batch_size=10)
    rows = [(r.layer, r.input_shapes, r.output_shape, r.params) for r in s.rows]
    assert rows == [("Conv2d-1", [(10, 1, 8, 8)], (10, 4, 8, 8), 40),
                    ("BatchNorm2d-1", [(10, 4, 8, 8)], (10, 4, 8, 8), 8),
                    ("ReLU-1", [(10, 4, 8, 8)], (10, 4, 8, 8), 0), ("MaxPool2d-1", [(10, 4, 8, 8)], (10, 4, 4, 4), 0),
                    ("Flatten-1", [(10, 4, 4, 4)], (10, 64), 0), ("Linear-1", [(10, 64)], (10, 10), 650)]
    assert s.trainable == 698 and s.non_trainable == 8 and s.total == 706
    text = str(s)
    assert "Layer (type)" in text and "Input Shape" in text and "Output Shape" in text and "Param #" in text
    assert "Linear-1" in text and "[[10, 64]]" in text and "[10, 10]" in text
    assert "Total params: 706" in text and "Trainable params: 698" in text and "Non-trainable params: 8" in text
    # the memory estimate: inputs, outputs twice (value and gradient), parameters and statistics, in MB
    outputs = 3 * 10 * 4 * 64 + 10 * 4 * 16 + 10 * 64 + 10 * 10
    assert f"Input size (MB): {10 * 64 * 4 / 2**20:.2f}" in text
    assert s.activation_bytes == 2 * outputs * 4 and s.param_bytes == 706 * 4
    assert "Estimated Total Size (MB)" in text


def test_the_material_mlp_row(rng):
    class MyMLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(nn.Linear(30000, 100, rng=rng), nn.ReLU(), nn.Linear(100, 10, rng=rng))

        def forward(self, x):
            return self.features(x.flatten(1))

    s = summary(MyMLP(), (3, 100, 100), batch_size=10)
    header, body = s.table()
    assert body[0] == ["Linear-1", "[[10, 30000]]", "[10, 100]", "3,000,100"]
    assert [r[0] for r in body] == ["Linear-1", "ReLU-1", "Linear-2"]


def test_shared_layers_appear_at_each_call_and_count_once(rng):
    class Shared(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 4, rng=rng)

        def forward(self, x):
            return self.fc(self.fc(x))

    s = summary(Shared(), (4,))
    assert [r.layer for r in s.rows] == ["Linear-1", "Linear-2"]
    assert [r.params for r in s.rows] == [20, 0] and s.trainable == 20


def test_nested_blocks_list_their_leaf_layers(rng):
    model = nn.Sequential(nn.Linear(4, 4, rng=rng), nn.Residual(nn.Sequential(nn.Linear(4, 4, rng=rng), nn.ReLU())))
    s = summary(model, (4,))
    assert [r.name for r in s.rows] == ["0", "1.block.0", "1.block.1"]
    assert sum(r.params for r in s.rows) == s.trainable == 40
    assert model.training, "summary restores the mode"


def test_shapes_that_do_not_chain_name_the_layer(rng):
    model = nn.Sequential(nn.Flatten(), nn.Linear(10, 3, rng=rng))
    with pytest.raises(ValueError, match=r"layer 1 \(Linear\) cannot take input \(N, 64\)"):
        summary(model, (1, 8, 8))
    assert nntrain.summary is summary
