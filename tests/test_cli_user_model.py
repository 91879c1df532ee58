"""`nntrain train --model FILE.py:Class`: a network class of the user's own, its arguments from the [model] table,
the file's path and hash kept by the run; summary, gradcheck, eval, predict, export and --resume on such runs; every
mistake one `Error:` line."""

import hashlib
import json

import numpy as np
import pytest

from nntrain.checkpoint import load_weights
from nntrain.config import read_toml

from cli_helpers import assert_clean_error, invoke, parse_json

NET = '''
from nntrain import nn


class Net(nn.Module):
    def __init__(self, width=16, num_classes=10, rng=None):
        super().__init__()
        self.fc1 = nn.Linear(64, width, rng=rng)
        self.fc2 = nn.Linear(width, num_classes, rng=rng)

    def forward(self, x):
        return self.fc2(self.fc1(x.flatten(1)).relu())
'''


@pytest.fixture
def net(tmp_path):
    path = tmp_path / "net.py"
    path.write_text(NET)
    return path


@pytest.fixture
def run(tmp_path, net):
    """A two-epoch run of Net with width = 24 from a TOML [model] table."""
    config = tmp_path / "run.toml"
    config.write_text(f'[model]\npreset = "{net}:Net"\nwidth = 24\n[optimizer]\nlr = 0.01\n[training]\nepochs = 2\n')
    status, out, err = invoke("train", config, "--out", tmp_path / "run", "--json")
    assert status == 0, err
    return tmp_path / "run", parse_json(out)


def test_model_table_keys_are_constructor_arguments_and_the_run_records_path_and_hash(run, net):
    run_dir, result = run
    assert result["test"]["accuracy"] > 0.6
    model = read_toml(run_dir / "config.toml")["model"]
    assert model["preset"] == f"{net}:Net" and model["args"] == {"width": 24}
    assert model["sha256"] == hashlib.sha256(net.read_bytes()).hexdigest()
    weights = load_weights(run_dir / "model.safetensors")
    assert weights["fc1.weight"].shape == (24, 64) and weights["fc2.weight"].shape == (10, 24)


def test_eval_predict_export_and_resume_work_on_the_run(run, tmp_path):
    run_dir, result = run
    status, out, err = invoke("eval", run_dir, "--json")
    assert status == 0, err
    assert json.loads(out)["accuracy"] == pytest.approx(result["test"]["accuracy"])
    np.save(tmp_path / "x.npy", np.random.default_rng(0).random((3, 64), dtype=np.float32))
    status, out, err = invoke("predict", run_dir, tmp_path / "x.npy", "--json")
    assert status == 0, err
    assert len(json.loads(out)["predictions"]) == 3
    pytest.importorskip("onnxruntime")
    status, out, err = invoke("export", run_dir, "-o", tmp_path / "net.onnx")
    assert status == 0, err
    assert (tmp_path / "net.onnx").stat().st_size > 0
    status, out, err = invoke("train", "--resume", run_dir, "--epochs", 3, "--json")
    assert status == 0, err
    assert parse_json(out)["epochs"] == 3
    for command in ("summary", "gradcheck"):  # the run's own config.toml: its [model] args, its file checked
        status, out, err = invoke(command, run_dir / "config.toml")
        assert status == 0, err
    assert "Linear-2" in invoke("summary", run_dir / "config.toml")[1]


def test_summary_and_gradcheck_take_the_class(net):
    status, out, err = invoke("summary", "--model", f"{net}:Net")
    assert status == 0, err
    assert "Linear-1" in out and "Linear-2" in out and f"{net}:Net for digits" in out
    status, out, err = invoke("gradcheck", "--model", f"{net}:Net")
    assert status == 0, err
    assert "gradcheck passed" in out


def test_resume_refuses_a_changed_model_file(run, net):
    run_dir, _ = run
    net.write_text(NET + "\n# an edit\n")
    status, _, err = invoke("train", "--resume", run_dir, "--epochs", 3)
    assert_clean_error(status, err, match=r"net\.py: the model file changed since this run was trained")
    status, _, err = invoke("eval", run_dir)
    assert_clean_error(status, err, match="the model file changed")
    status, _, err = invoke("summary", run_dir / "config.toml")
    assert_clean_error(status, err, match="the model file changed")


def test_resume_refuses_a_model_file_that_is_gone(run, net):
    run_dir, _ = run
    net.unlink()
    status, _, err = invoke("train", "--resume", run_dir, "--epochs", 3)
    assert_clean_error(status, err, match=r"net\.py: the model file this run was trained from is gone")


BAD_FILES = [
    ("", "net.txt:Net", r"expected a preset name or FILE\.py:ClassName"),
    ("", "missing.py:Net", r"missing\.py: no such model file"),
    (NET, "net.py:Other", r"net\.py: defines no class Other \(it has Net\)"),
    (NET + "\nclass Plain:\n    pass\n", "net.py:Plain", r"net\.py:Plain is not a subclass of nntrain\.nn\.Module"),
    ("from nntrain import nn\n\nclass Net(nn.Module)\n    pass\n", "net.py:Net", r"net\.py:3: SyntaxError"),
    (NET.replace("super().__init__()", "super().__init__()\n        raise RuntimeError('no')"), "net.py:Net",
     r"net\.py:\d+: Net\(\) failed: RuntimeError: no"),
    (NET.replace("num_classes=10", "num_classes=5"), "net.py:Net",
     r"net\.py: Net outputs \(N, 5\) for inputs \(N, 1, 8, 8\) but the data has 10 classes"),
    (NET.replace("x.flatten(1)", "x"), "net.py:Net", r"net\.py:\d+: Net\.forward on an input of \(N, 1, 8, 8\) failed"),
]


@pytest.mark.parametrize("source, spec, message", BAD_FILES)
def test_each_mistake_in_a_model_file_is_one_error_line(tmp_path, monkeypatch, source, spec, message):
    monkeypatch.chdir(tmp_path)
    if source:
        (tmp_path / "net.py").write_text(source)
    status, _, err = invoke("train", "--model", spec, "--epochs", 1, "--out", tmp_path / "run")
    assert_clean_error(status, err, match=message)
    assert not (tmp_path / "run" / "checkpoint.safetensors").exists()


def test_a_constructor_argument_it_does_not_take_is_one_error_line(tmp_path, net):
    config = tmp_path / "run.toml"
    config.write_text(f'[model]\npreset = "{net}:Net"\ndepth = 3\n')
    status, _, err = invoke("train", config, "--out", tmp_path / "run")
    assert_clean_error(status, err, match=r"Net\(depth=\.\.\.\) failed: TypeError")


def test_an_args_table_holds_arguments_whose_names_model_uses_itself(tmp_path, net):
    net.write_text(NET.replace("width=16", "hidden=16").replace("64, width", "64, hidden")
                   .replace("(width, num", "(hidden, num"))
    config = tmp_path / "run.toml"
    config.write_text(f'[model]\npreset = "{net}:Net"\nargs = {{hidden = 20}}\n[training]\nepochs = 1\n')
    status, _, err = invoke("train", config, "--out", tmp_path / "run", "--quiet")
    assert status == 0, err
    assert load_weights(tmp_path / "run" / "model.safetensors")["fc1.weight"].shape == (20, 64)


def test_model_table_keys_it_does_not_know_are_refused_for_presets(tmp_path):
    config = tmp_path / "run.toml"
    config.write_text('[model]\npreset = "mlp"\nwidth = 3\n')
    status, _, err = invoke("train", config, "--out", tmp_path / "run")
    assert_clean_error(status, err, match=r"unknown setting 'model\.width'.*FILE\.py:ClassName")
