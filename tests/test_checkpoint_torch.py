"""Weights move both ways between nntrain and PyTorch: a model.safetensors written by `nntrain train` loads
into the same torch.nn architecture with load_state_dict and gives the same outputs, and weights saved from
PyTorch initialise an nntrain model (--init-from). Oracle tests: marked `torch` (see tests/conftest.py)."""

import numpy as np
import pytest

from conftest import import_torch

pytestmark = pytest.mark.torch
torch = import_torch()
import safetensors.torch as safetensors_torch  # noqa: E402

from nntrain import presets  # noqa: E402
from nntrain.checkpoint import load_weights, save_weights  # noqa: E402
from nntrain.nn.init import from_pretrained  # noqa: E402

from cli_helpers import invoke, parse_json  # noqa: E402


def torch_cnn(c, h, w, classes):
    tnn = torch.nn
    return tnn.Sequential(
        tnn.Conv2d(c, 32, 3, padding=1, bias=False), tnn.BatchNorm2d(32), tnn.ReLU(), tnn.MaxPool2d(2),
        tnn.Conv2d(32, 64, 3, padding=1, bias=False), tnn.BatchNorm2d(64), tnn.ReLU(), tnn.MaxPool2d(2),
        tnn.Flatten(), tnn.Linear(64 * (h // 4) * (w // 4), 128), tnn.ReLU(), tnn.Linear(128, classes))


def torch_mlp(features, classes):
    tnn = torch.nn
    return tnn.Sequential(tnn.Flatten(), tnn.Linear(features, 256), tnn.ReLU(), tnn.Linear(256, 128), tnn.ReLU(),
                          tnn.Linear(128, classes))


def test_a_trained_run_loads_into_torch_with_the_same_outputs(tmp_path):
    status, out, err = invoke("train", "--model", "cnn", "--epochs", 1, "--out", tmp_path / "run", "--json")
    assert status == 0, err
    state = safetensors_torch.load_file(str(tmp_path / "run" / "model.safetensors"))
    model = torch_cnn(1, 8, 8, 10)
    model.load_state_dict(state)  # strict: every key and shape must match
    model.eval()
    from nntrain.run import load_trained_model

    ours, _ = load_trained_model(tmp_path / "run")
    x = np.random.default_rng(0).standard_normal((6, 1, 8, 8)).astype(np.float32)
    with torch.no_grad():
        theirs = model(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(ours(x), theirs, rtol=1e-4, atol=1e-5)


def test_weights_saved_by_torch_initialise_an_nntrain_model(tmp_path):
    torch.manual_seed(0)
    model = torch_mlp(64, 10)
    safetensors_torch.save_file({k: v.contiguous() for k, v in model.state_dict().items()},
                                str(tmp_path / "torch.safetensors"))
    ours = presets.build("mlp", (1, 8, 8), 10, rng=np.random.default_rng(1))
    from_pretrained(ours, tmp_path / "torch.safetensors")
    x = np.random.default_rng(0).standard_normal((4, 1, 8, 8)).astype(np.float32)
    with torch.no_grad():
        np.testing.assert_allclose(ours(x), model(torch.from_numpy(x)).numpy(), rtol=1e-5, atol=1e-6)
    # and from the command line: --init-from starts training where PyTorch left off
    status, out, err = invoke("train", "--epochs", 1, "--out", tmp_path / "run", "--json", "--init-from",
                              tmp_path / "torch.safetensors")
    assert status == 0, err
    assert parse_json(out)["epochs"] == 1


def test_round_trip_keeps_every_array_bit_for_bit(tmp_path):
    ours = presets.build("resnet", (3, 8, 8), 5, rng=np.random.default_rng(2))
    ours(np.random.default_rng(3).standard_normal((4, 3, 8, 8)).astype(np.float32))
    save_weights(ours, tmp_path / "a.safetensors")
    state = safetensors_torch.load_file(str(tmp_path / "a.safetensors"))
    safetensors_torch.save_file(state, str(tmp_path / "b.safetensors"))
    again = load_weights(tmp_path / "b.safetensors")
    for k, v in ours.state_dict().items():
        np.testing.assert_array_equal(again[k], v)
