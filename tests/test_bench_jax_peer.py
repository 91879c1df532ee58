"""The JAX peer of `python -m bench` (bench/jax_models.py): the twin networks compute what nntrain's
layers compute, the timed child process runs, and JAX stays optional."""

import sys
from pathlib import Path

import numpy as np
import pytest

from nntrain import functional as F, presets

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root, home of bench/
from bench import peers  # noqa: E402

jax = pytest.importorskip("jax")
pytest.importorskip("optax")
jax_models = pytest.importorskip("bench.jax_models")


def test_jax_mlp_twin_matches_nntrain_layers(rng):
    params, state = jax_models.init("mlp", (1, 28, 28), 10)
    x = rng.random((5, 1, 28, 28), dtype=np.float32)
    got, _ = jax_models.forward("mlp", params, state, x)
    h = x.reshape(5, -1)
    for i, layer in enumerate(params):
        h = F.linear(h, np.asarray(layer["w"]), np.asarray(layer["b"]))
        h = F.relu(h) if i < len(params) - 1 else h
    np.testing.assert_allclose(np.asarray(got), h, rtol=1e-4, atol=1e-5)


def test_jax_cnn_twin_matches_nntrain_layers(rng):
    params, state = jax_models.init("cnn", (1, 28, 28), 10)
    x = rng.random((4, 1, 28, 28), dtype=np.float32)
    got, new_state = jax_models.forward("cnn", params, state, x)
    a = lambda v: np.asarray(v)
    h, layer = x, 0
    for stage in presets.CNN_STAGES:
        for _ in stage:
            h = F.conv2d(h, a(params["convs"][layer]), padding=1)
            running_mean, running_var = np.zeros(h.shape[1], np.float32), np.ones(h.shape[1], np.float32)
            bn = params["bns"][layer]
            h = F.batch_norm(h, running_mean, running_var, a(bn["g"]), a(bn["b"]), training=True, relu=True)
            np.testing.assert_allclose(a(new_state[layer]["mean"]), running_mean, rtol=1e-4, atol=1e-6)
            np.testing.assert_allclose(a(new_state[layer]["var"]), running_var, rtol=1e-4, atol=1e-6)
            layer += 1
        h = F.max_pool2d(h, 2)
    assert h.shape == (4, 128, 3, 3)
    h = F.relu(F.linear(h.reshape(4, -1), a(params["fc1"]["w"]), a(params["fc1"]["b"])))
    h = F.linear(h, a(params["fc2"]["w"]), a(params["fc2"]["b"]))
    np.testing.assert_allclose(a(got), h, rtol=1e-3, atol=1e-4)


def test_jax_training_rate_runs_in_a_child_process():
    rate = peers.jax_training_rate("mlp", 1, steps=3, warmup=2, input_shape=(1, 28, 28), classes=10)
    assert rate > 0


def test_jax_is_optional(monkeypatch):
    monkeypatch.setitem(sys.modules, "jax", None)  # import jax now raises ImportError
    assert peers.jax_or_none() is None
    assert peers.jax_version() == peers.NOT_INSTALLED


def test_a_jax_peer_times_a_pass_each_time_it_is_asked():
    # one child, compiled once, timing passes between the other libraries' (bench/training.py alternates them)
    with peers.JaxPeer("mlp", 1, steps=3, warmup=2, input_shape=(1, 28, 28), classes=10) as peer:
        rates = [peer.rate(), peer.rate()]
    assert all(rate > 0 for rate in rates)
    assert peer.proc.returncode == 0  # closing stdin ended it


def test_a_jax_peer_that_cannot_start_says_why():
    with pytest.raises(RuntimeError, match="the JAX nope run failed"):
        peers.JaxPeer("nope", 1, steps=3, warmup=2, input_shape=(1, 28, 28), classes=10)
