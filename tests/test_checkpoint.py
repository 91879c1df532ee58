import json

import numpy as np
import pytest

from nntrain import nn, optim
from nntrain.checkpoint import CheckpointError, load_checkpoint, load_weights, save_checkpoint, save_weights
from nntrain.nn import init


def model(rng):
    return nn.Sequential(nn.Linear(4, 3, rng=rng), nn.BatchNorm1d(3), nn.ReLU(), nn.Linear(3, 2, rng=rng))


def test_weights_round_trip_and_pretrained_init(rng, tmp_path):
    a = model(rng)
    a(rng.standard_normal((5, 4)).astype(np.float32))
    path = tmp_path / "model.safetensors"
    save_weights(a, path)
    from safetensors.numpy import load_file

    assert set(load_file(path)) == set(a.state_dict())
    b = init.from_pretrained(model(np.random.default_rng(7)), path)
    for (k, va), (_, vb) in zip(a.state_dict().items(), b.state_dict().items()):
        np.testing.assert_array_equal(va, vb, err_msg=k)
    assert list(tmp_path.iterdir()) == [path], "no temporary files left behind"


def test_checkpoint_restores_optimizer_and_meta(rng, tmp_path):
    a = model(rng)
    opt = optim.Adam(a.parameters(), lr=0.01)
    for p in a.parameters():
        p.grad = np.ones_like(p.data)
    opt.step()
    path = tmp_path / "ckpt.safetensors"
    rng_state = np.random.default_rng(5).bit_generator.state
    save_checkpoint(path, a, opt, epoch=3, rng=rng_state)
    ck = load_checkpoint(path)
    assert ck.meta["epoch"] == 3 and ck.meta["rng"] == json.loads(json.dumps(rng_state))
    b = model(np.random.default_rng(1))
    b.load_state_dict(ck.model_state)
    opt_b = optim.Adam(b.parameters(), lr=0.5)
    opt_b.load_state_dict(ck.optimizer_state)
    assert opt_b.steps == [1] and opt_b.param_groups[0]["lr"] == 0.01
    for p, q in zip(a.parameters(), b.parameters()):
        np.testing.assert_array_equal(opt.state[p]["exp_avg_sq"], opt_b.state[q]["exp_avg_sq"])


@pytest.mark.parametrize("damage,message", [
    (lambda raw: raw[: len(raw) // 2], "truncated or not a safetensors file|corrupt"),
    (lambda raw: b"\x07" * 4, "not a safetensors file"),
    (lambda raw: raw[:8] + b"{not json" + raw[17:], "corrupt safetensors file"),
])
def test_damaged_files_are_clear_errors(rng, tmp_path, damage, message):
    path = tmp_path / "model.safetensors"
    save_weights(model(rng), path)
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(CheckpointError, match=message) as err:
        load_weights(path)
    assert str(path) in str(err.value)


def test_missing_file_and_weights_file_as_checkpoint(rng, tmp_path):
    with pytest.raises(CheckpointError, match="no such file"):
        load_weights(tmp_path / "nope.safetensors")
    save_weights(model(rng), tmp_path / "w.safetensors")
    with pytest.raises(CheckpointError, match="not an nntrain checkpoint"):
        load_checkpoint(tmp_path / "w.safetensors")


class ScaledCounter(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(np.float32(2.0))
        self.register_buffer("count", np.zeros((), np.int64))


def test_zero_dim_arrays_stay_zero_dim_in_weights_and_checkpoints(rng, tmp_path):
    m = nn.Sequential(ScaledCounter(), nn.BatchNorm1d(3))
    m[0].scale.grad = np.ones((), np.float32)
    opt = optim.Adam(m.parameters(), lr=0.1)
    opt.step()
    save_weights(m, tmp_path / "w.safetensors")
    weights = load_weights(tmp_path / "w.safetensors")
    assert weights["0.scale"].shape == weights["0.count"].shape == weights["1.num_batches_tracked"].shape == ()
    save_checkpoint(tmp_path / "c.safetensors", m, opt)
    ck = load_checkpoint(tmp_path / "c.safetensors")
    assert ck.model_state["0.scale"].shape == ck.model_state["1.num_batches_tracked"].shape == ()
    assert ck.optimizer_state["state"][0]["exp_avg"].shape == ()
    again = nn.Sequential(ScaledCounter(), nn.BatchNorm1d(3))
    again.load_state_dict(ck.model_state)
    opt2 = optim.Adam(again.parameters(), lr=0.1)
    opt2.load_state_dict(ck.optimizer_state)
    np.testing.assert_array_equal(again[0].scale.data, m[0].scale.data)
    assert again[0].scale.shape == ()


def test_arrays_inside_meta_travel_as_tensors_and_come_back_in_place(rng, tmp_path):
    model = nn.Sequential(nn.Linear(3, 2, rng=rng))
    best = {"w": rng.standard_normal((2, 3)).astype(np.float32), "b": np.arange(2, dtype=np.float64)}
    meta = {"callbacks": {"EarlyStopping": {"best": 0.5, "best_weights": best}}, "list": [1, np.ones(3)]}
    path = tmp_path / "c.safetensors"
    save_checkpoint(path, model, trainer=meta)
    back = load_checkpoint(path).meta["trainer"]
    stored = back["callbacks"]["EarlyStopping"]["best_weights"]
    assert back["callbacks"]["EarlyStopping"]["best"] == 0.5 and back["list"][0] == 1
    for k, v in best.items():
        assert stored[k].dtype == v.dtype and np.array_equal(stored[k], v)
    np.testing.assert_array_equal(back["list"][1], np.ones(3))
    assert sorted(k for k in load_weights(path) if k.startswith("meta.")) == ["meta.2", "meta.3", "meta.4"]
