"""Module plumbing: registration, PyTorch-style state_dict keys, load_state_dict checks, dtype, norms."""

import numpy as np

import nntrain
import pytest

from nntrain import nn


def small_cnn(rng):
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1, rng=rng), nn.BatchNorm2d(4), nn.ReLU(),
        nn.Residual(nn.Sequential(nn.Conv2d(4, 4, 3, padding=1, rng=rng), nn.ReLU())),
        nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 4 * 4, 3, rng=rng))


def test_state_dict_uses_pytorch_keys(rng):
    keys = list(small_cnn(rng).state_dict())
    assert keys == ["0.weight", "0.bias", "1.weight", "1.bias", "3.block.0.weight", "3.block.0.bias",
                    "6.weight", "6.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked"]


def test_state_dict_round_trips(rng):
    a, b = small_cnn(rng), small_cnn(np.random.default_rng(99))
    x = rng.standard_normal((2, 1, 8, 8)).astype(np.float32)
    a.train()(x)  # move the running statistics away from their initial values
    b.load_state_dict(a.state_dict())
    a.eval(), b.eval()
    np.testing.assert_array_equal(a(x), b(x))
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert ka == kb and np.array_equal(va, vb)


def test_load_state_dict_names_every_problem(rng):
    model = small_cnn(rng)
    state = dict(model.state_dict())
    del state["6.bias"]
    state["7.weight"] = np.zeros(3)
    state["0.weight"] = np.zeros((4, 1, 5, 5))
    before = model.state_dict()["6.weight"].copy()
    with pytest.raises(ValueError) as err:
        model.load_state_dict(state)
    msg = str(err.value)
    assert "missing keys: 6.bias" in msg and "unexpected keys: 7.weight" in msg
    assert "0.weight: expected shape (4, 1, 3, 3), got (4, 1, 5, 5)" in msg
    np.testing.assert_array_equal(model.state_dict()["6.weight"], before)


def test_to_float64_and_back(rng):
    model = small_cnn(rng).to(np.float64)
    assert all(p.dtype == np.float64 and p.grad is None for p in model.parameters())
    assert model[1].running_mean.dtype == np.float64
    assert model[1].num_batches_tracked.dtype == np.int64
    out = model(rng.standard_normal((2, 1, 8, 8)))
    assert out.dtype == np.float64
    model.to(np.float32)
    assert model.dtype == np.float32


def test_parameters_zero_grad_and_norms(rng):
    model = nn.Sequential(nn.Linear(3, 4, rng=rng), nn.ReLU(), nn.Linear(4, 2, rng=rng))
    assert [n for n, _ in model.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    x = rng.standard_normal((5, 3)).astype(np.float32)
    model(x)
    model.backward(np.ones((5, 2), np.float32))
    norms = model.grad_norms()
    assert list(norms) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    np.testing.assert_allclose(norms["2.bias"], np.sqrt(2) * 5, rtol=1e-6)
    np.testing.assert_allclose(model.weight_norms()["0.weight"], np.linalg.norm(model[0].weight.data), rtol=1e-6)
    model.zero_grad(set_to_none=False)
    assert all(not p.grad.any() for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_repr_lists_layers(rng):
    text = repr(nn.Sequential(nn.Linear(3, 4, rng=rng), nn.ReLU()))
    assert "(0): Linear(in_features=3, out_features=4, bias=True)" in text and "(1): ReLU()" in text


def test_without_an_input_gradient_the_first_layer_skips_it_and_parameters_are_unchanged(rng):
    x = rng.standard_normal((2, 1, 8, 8)).astype(np.float32)
    grads = []
    for needs in (True, False):
        model = small_cnn(np.random.default_rng(1))
        model.needs_input_grad = needs
        out = model(x)
        dx = model.backward(np.ones_like(out))
        assert (dx is None) == (not needs)
        grads.append([p.grad.copy() for p in model.parameters()])
    for a, b in zip(*grads):
        np.testing.assert_array_equal(a, b)
    mlp = nn.Sequential(nn.Flatten(), nn.Linear(64, 4, rng=rng))
    mlp.needs_input_grad = False
    mlp(x)
    assert mlp.backward(np.ones((2, 4), np.float32)) is None and mlp[1].weight.grad is not None


class ScaledCounter(nn.Module):
    """A learnable 0-d scale and a 0-d buffer: the shapes nothing may turn into (1,)."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(np.float32(2.0))
        self.register_buffer("count", np.zeros((), np.int64))

    def forward(self, x):
        return x * self.scale


def test_zero_dim_parameters_and_buffers_stay_zero_dim(rng):
    m = ScaledCounter()
    assert m.scale.shape == () and m.count.shape == ()
    (m(nntrain.Tensor(np.ones(3, np.float32))) * m.scale).sum().backward()
    assert m.scale.grad.shape == ()
    assert {k: v.shape for k, v in m.state_dict().items()} == {"scale": (), "count": ()}
    bn = nn.BatchNorm2d(3)
    assert bn.state_dict()["num_batches_tracked"].shape == ()
    bn(rng.standard_normal((2, 3, 4, 4)).astype(np.float32))
    assert bn.num_batches_tracked.shape == () and int(bn.num_batches_tracked) == 1
    assert bn.to(np.float64).state_dict()["num_batches_tracked"].shape == ()


def test_batch_norm_state_without_num_batches_tracked_loads_strictly_and_keeps_the_count(rng):
    # PyTorch's rule for a state dict without version metadata (what safetensors files give).
    model = small_cnn(rng)
    model(rng.standard_normal((2, 1, 8, 8)).astype(np.float32))
    state = {k: v + 1 for k, v in model.state_dict().items() if k != "1.num_batches_tracked"}
    model.load_state_dict(state)
    assert model[1].num_batches_tracked.shape == () and int(model[1].num_batches_tracked) == 1
    np.testing.assert_array_equal(model[1].running_mean, state["1.running_mean"])
    assert "1.num_batches_tracked" not in state  # the caller's dict is left as it was


def test_a_one_element_array_loads_into_a_zero_dim_entry_as_pytorch_allows():
    # Files written before 0-d arrays were kept 0-d hold num_batches_tracked as shape (1,).
    bn = nn.BatchNorm1d(2)
    state = dict(bn.state_dict())
    state["num_batches_tracked"] = np.array([7], np.int64)
    bn.load_state_dict(state)
    assert bn.num_batches_tracked.shape == () and int(bn.num_batches_tracked) == 7
    state["num_batches_tracked"] = np.array([7, 8], np.int64)
    with pytest.raises(ValueError, match=r"num_batches_tracked: expected shape \(\), got \(2,\)"):
        bn.load_state_dict(state)
