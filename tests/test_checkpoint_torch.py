"""Weights move both ways between nntrain and PyTorch: a model.safetensors written by `nntrain train` loads
into the same torch.nn architecture with load_state_dict and gives the same outputs, and weights saved from
PyTorch initialise an nntrain model (--init-from). Oracle tests: marked `torch` (see tests/conftest.py)."""

import numpy as np
import pytest

from conftest import import_torch

pytestmark = pytest.mark.torch
torch = import_torch()
import safetensors.torch as safetensors_torch  # noqa: E402

from nntrain import nn, presets  # noqa: E402
from nntrain.checkpoint import load_weights, save_weights  # noqa: E402
from nntrain.data import load_digits  # noqa: E402
from nntrain.nn.init import from_pretrained  # noqa: E402

from cli_helpers import invoke, parse_json, run_process  # noqa: E402
from torch_oracle import assert_close, load_into_torch, state_from_torch, torch_twin  # noqa: E402


def torch_cnn(c, h, w, classes):
    """The cnn preset written out by hand in torch.nn, for images of at least 8x8 (three 2x2 pools)."""
    tnn = torch.nn
    return tnn.Sequential(
        tnn.Conv2d(c, 32, 3, padding=1, bias=False), tnn.BatchNorm2d(32), tnn.ReLU(), tnn.MaxPool2d(2),
        tnn.Conv2d(32, 64, 3, padding=1, bias=False), tnn.BatchNorm2d(64), tnn.ReLU(),
        tnn.Conv2d(64, 64, 3, padding=1, bias=False), tnn.BatchNorm2d(64), tnn.ReLU(), tnn.MaxPool2d(2),
        tnn.Conv2d(64, 128, 3, padding=1, bias=False), tnn.BatchNorm2d(128), tnn.ReLU(), tnn.MaxPool2d(2),
        tnn.Flatten(), tnn.Linear(128 * (h // 8) * (w // 8), 128), tnn.ReLU(), tnn.Linear(128, classes))


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


# ---- every preset, both ways, BatchNorm included --------------------------------------------------------
DIGITS = (1, 8, 8)
PRESET_INPUTS = [("mlp", DIGITS), ("lenet", DIGITS), ("cnn", DIGITS), ("resnet", DIGITS), ("resnet", (3, 10, 10))]


def trained_torch_twin(ours, input_shape, seed):
    """The torch twin of `ours` with weights of its own: random parameters, running statistics moved by a few
    training batches, num_batches_tracked at 5 (whatever lands in nntrain must have come from torch)."""
    torch.manual_seed(seed)
    twin = torch_twin(ours)
    with torch.no_grad():
        for p in twin.parameters():
            p.uniform_(-0.5, 0.5)
        for _ in range(5):
            twin(torch.randn((6,) + tuple(input_shape)))
    return twin


def eval_outputs_agree(ours, twin, input_shape, rng):
    x = rng.standard_normal((5,) + tuple(input_shape)).astype(np.float32)
    ours.eval(), twin.eval()
    with torch.no_grad():
        assert_close(ours(x), twin(torch.from_numpy(x)).numpy(), "outputs in evaluation")


def assert_same_state(ours, torch_state):
    """Every array of nntrain's state_dict equals torch's bit for bit, with the same shape (0-d included)."""
    state = ours.state_dict()
    assert sorted(state) == sorted(torch_state)
    for k, v in torch_state.items():
        v = v.numpy() if hasattr(v, "numpy") else v
        assert state[k].shape == v.shape, k
        np.testing.assert_array_equal(state[k], v, err_msg=k)


@pytest.mark.parametrize("preset,input_shape", PRESET_INPUTS)
def test_preset_state_dicts_move_both_ways_in_memory(rng, preset, input_shape):
    ours = presets.build(preset, input_shape, 10, rng=rng)
    ours(rng.standard_normal((8,) + input_shape).astype(np.float32))  # BatchNorm statistics move
    twin = load_into_torch(torch_twin(ours), ours)  # strict: every key and shape
    assert all(v.shape == () for k, v in twin.state_dict().items() if k.endswith("num_batches_tracked"))
    eval_outputs_agree(ours, twin, input_shape, rng)

    theirs = trained_torch_twin(ours, input_shape, seed=1)
    fresh = presets.build(preset, input_shape, 10, rng=np.random.default_rng(7))
    fresh.load_state_dict(state_from_torch(theirs))
    assert_same_state(fresh, theirs.state_dict())
    eval_outputs_agree(fresh, theirs, input_shape, rng)


@pytest.mark.parametrize("preset,input_shape", PRESET_INPUTS)
def test_preset_weights_move_both_ways_through_safetensors_files(rng, tmp_path, preset, input_shape):
    ours = presets.build(preset, input_shape, 10, rng=rng)
    ours(rng.standard_normal((8,) + input_shape).astype(np.float32))
    save_weights(ours, tmp_path / "ours.safetensors")
    twin = torch_twin(ours)
    twin.load_state_dict(safetensors_torch.load_file(str(tmp_path / "ours.safetensors")))  # strict
    eval_outputs_agree(ours, twin, input_shape, rng)

    theirs = trained_torch_twin(ours, input_shape, seed=2)
    safetensors_torch.save_file({k: v.contiguous() for k, v in theirs.state_dict().items()},
                                str(tmp_path / "theirs.safetensors"))
    fresh = presets.build(preset, input_shape, 10, rng=np.random.default_rng(7))
    from_pretrained(fresh, tmp_path / "theirs.safetensors")
    assert_same_state(fresh, theirs.state_dict())
    eval_outputs_agree(fresh, theirs, input_shape, rng)


def test_a_torch_file_without_num_batches_tracked_loads_as_in_torch(rng, tmp_path):
    # Older PyTorch saved BatchNorm without num_batches_tracked; loading such a file keeps the model's count.
    ours = presets.build("resnet", DIGITS, 10, rng=rng)
    theirs = trained_torch_twin(ours, DIGITS, seed=3)
    state = {k: v.contiguous() for k, v in theirs.state_dict().items() if not k.endswith("num_batches_tracked")}
    safetensors_torch.save_file(state, str(tmp_path / "old.safetensors"))
    from_pretrained(ours, tmp_path / "old.safetensors")  # strict
    for name, module in ours.named_modules():
        if isinstance(module, nn.BatchNorm2d):
            assert module.num_batches_tracked.shape == () and int(module.num_batches_tracked) == 0, name
    eval_outputs_agree(ours, theirs, DIGITS, rng)
    # and torch itself takes nntrain's 0-d counts
    theirs.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in ours.state_dict().items()})


@pytest.mark.parametrize("preset", presets.PRESETS)
def test_init_from_a_torch_file_on_the_command_line(tmp_path, preset):
    ours = presets.build(preset, DIGITS, 10, rng=np.random.default_rng(0))
    theirs = trained_torch_twin(ours, DIGITS, seed=4)
    state = {k: v.contiguous() for k, v in theirs.state_dict().items()}
    safetensors_torch.save_file(state, str(tmp_path / "torch.safetensors"))
    # A learning rate of 1e-30 moves no weight of magnitude above 1e-22 by half an ulp: the run's weights are
    # then exactly the file's, while BatchNorm's statistics and counts still run for one epoch.
    done = run_process("train", "--model", preset, "--init-from", tmp_path / "torch.safetensors", "--optimizer",
                       "sgd", "--lr", "1e-30", "--epochs", 1, "--batch-size", 100, "--out", tmp_path / "run",
                       "--json", "--quiet")
    assert done.returncode == 0, done.stderr
    result = parse_json(done.stdout)
    run = load_weights(tmp_path / "run" / "model.safetensors")
    steps = -(-(len(load_digits().train) - result["val"]["samples"]) // 100)
    for k, v in state.items():
        assert run[k].shape == tuple(v.shape), k
        if k.endswith("num_batches_tracked"):
            assert int(run[k]) == int(v) + steps, k
        elif not k.endswith(("running_mean", "running_var")):
            np.testing.assert_array_equal(run[k], v.numpy(), err_msg=k)
