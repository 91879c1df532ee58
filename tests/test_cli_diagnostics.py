"""Seeing inside from the terminal: `--log-grad-norms [N]` (grad_norms.csv, grad_norms.png, a warning line when a
gradient vanishes) and `--tensorboard` (event files TensorBoard's own reader opens)."""

import csv
import sys

import pytest

from nntrain.config import read_toml

from cli_helpers import assert_clean_error, invoke, run_process


def deep_mlp_toml(path, activation, hidden_layers=8, width=64):
    """A TOML file of an MLP with ``hidden_layers`` (Linear, activation) pairs, trained by SGD at 0.1."""
    hidden = ", ".join(f'{{type = "Linear", out_features = {width}}}, {{type = "{activation}"}}'
                       for _ in range(hidden_layers))
    path.write_text(f'[model]\nlayers = [{{type = "Flatten"}}, {hidden}, {{type = "Linear"}}]\n'
                    '[optimizer]\nname = "sgd"\nlr = 0.1\n')
    return path


def test_an_8_layer_sigmoid_mlp_warns_of_its_vanishing_gradient_and_relu_does_not(tmp_path):
    runs = {}
    for activation in ("Sigmoid", "ReLU"):
        config = deep_mlp_toml(tmp_path / f"{activation}.toml", activation)
        done = run_process("train", config, "--epochs", 1, "--log-grad-norms", 5, "--out", tmp_path / activation, "-q")
        assert done.returncode == 0, done.stderr
        runs[activation] = done.stderr.strip().splitlines()
    warnings = [line for line in runs["Sigmoid"] if line.startswith("Warning: ")]
    assert warnings and warnings[0].startswith("Warning: vanishing gradient: layer '1' has gradient norm")
    assert not [line for line in runs["ReLU"] if "gradient" in line]
    with open(tmp_path / "Sigmoid" / "grad_norms.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    # 1,293 training examples in batches of 64: 21 steps, logged at 5, 10, 15, 20; 9 Linear layers, 2 tensors each
    assert sorted({int(r["step"]) for r in rows}) == [5, 10, 15, 20] and len(rows) == 4 * 18
    assert {r["parameter"] for r in rows} == {"weight", "bias"}
    first = {r["layer"]: float(r["grad_norm"]) for r in rows if r["step"] == "5" and r["parameter"] == "weight"}
    assert first["1"] < 1e-5 * first["17"]  # the first layer's gradient is vanishingly small beside the last's
    assert (tmp_path / "Sigmoid" / "grad_norms.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_log_grad_norms_alone_logs_every_10_steps_and_resume_continues_the_csv(tmp_path):
    status, _, err = invoke("train", "--epochs", 1, "--log-grad-norms", "--out", tmp_path / "run", "-q")
    assert status == 0, err
    assert read_toml(tmp_path / "run" / "config.toml")["diagnostics"]["grad_norms"] == 10
    status, _, err = invoke("train", "--resume", tmp_path / "run", "--epochs", 2, "-q")
    assert status == 0, err
    with open(tmp_path / "run" / "grad_norms.csv", newline="") as f:
        steps = sorted({int(r["step"]) for r in csv.DictReader(f)})
    assert steps == [10, 20, 30, 40]  # 21 steps an epoch, counted across the resume


def test_a_bad_interval_is_one_error_line(tmp_path):
    status, _, err = invoke("train", "--log-grad-norms", "often", "--out", tmp_path / "run")
    assert_clean_error(status, err, match=r"'often' is not a valid integer")
    config = tmp_path / "run.toml"
    config.write_text("[diagnostics]\ngrad_norms = -1\n")
    status, _, err = invoke("train", config, "--out", tmp_path / "run")
    assert_clean_error(status, err, match=r"'diagnostics\.grad_norms' must be >= 0, got -1")


def test_tensorboard_event_files_read_back_with_tensorboards_reader(tmp_path):
    pytest.importorskip("tensorboardX")
    accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    status, _, err = invoke("train", "--epochs", 2, "--tensorboard", "--log-grad-norms", 5, "--out", tmp_path / "run",
                            "-q")
    assert status == 0, err
    events = accumulator.EventAccumulator(str(tmp_path / "run" / "tensorboard"), size_guidance={"scalars": 0})
    events.Reload()
    tags = events.Tags()
    for tag in ("loss/train", "loss/val", "accuracy/train", "accuracy/val", "lr", "batch/loss", "grad_norm/1"):
        assert tag in tags["scalars"], tags["scalars"]
    assert "weights/1.weight" in tags["histograms"]
    assert [e.step for e in events.Scalars("loss/train")] == [21, 42]
    assert [e.step for e in events.Scalars("grad_norm/1")] == [5, 10, 15, 20, 25, 30, 35, 40]


def test_tensorboard_without_tensorboardx_is_one_error_line(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboardX", None)  # `import tensorboardX` now raises ImportError
    status, _, err = invoke("train", "--tensorboard", "--out", tmp_path / "run")
    assert_clean_error(status, err, match=r"needs tensorboardX: pip install 'nntrain\[tensorboard\]'")
