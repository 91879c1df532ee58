"""`nntrain train`: the default run, the run directory, config files and flags, --json, errors, resume."""

import csv
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from nntrain.checkpoint import load_weights
from nntrain.config import read_toml

from cli_helpers import assert_clean_error, invoke, parse_json, run_process


def test_no_arguments_trains_the_default_mlp_on_the_digits(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    status, out, err = invoke("train")
    assert status == 0, err
    assert "training mlp on digits" in out and "test accuracy" in out
    (run_dir,) = (tmp_path / "runs").iterdir()
    assert sorted(os.listdir(run_dir)) == ["checkpoint.safetensors", "config.toml", "curves.png", "metrics.csv",
                                           "model.safetensors"]
    accuracy = float(out.split("test accuracy ")[1].split("%")[0]) / 100
    assert accuracy >= 0.95


def test_run_directory_contents(tmp_path):
    status, out, err = invoke("train", "--epochs", 3, "--out", tmp_path / "run", "--json", "--seed", 5)
    assert status == 0, err
    result = parse_json(out)
    assert result["epochs"] == 3 and result["run_dir"] == str(tmp_path / "run")
    assert 0.5 < result["test"]["accuracy"] <= 1 and result["test"]["samples"] == 360
    assert result["val"]["samples"] == 144 and result["samples_per_second"] > 0
    run = tmp_path / "run"
    config = read_toml(run / "config.toml")
    assert config["seed"] == 5 and config["training"]["epochs"] == 3 and config["model"]["preset"] == "mlp"
    with open(run / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3]
    assert float(rows[-1]["train_loss"]) < float(rows[0]["train_loss"])
    weights = load_weights(run / "model.safetensors")
    assert sorted(weights) == ["1.bias", "1.weight", "3.bias", "3.weight", "5.bias", "5.weight"]
    assert weights["1.weight"].shape == (256, 64) and weights["1.weight"].dtype == np.float32
    assert (run / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_same_seed_same_run(tmp_path):
    results = [parse_json(invoke("train", "--epochs", 2, "--out", tmp_path / str(i), "--json")[1]) for i in (0, 1)]
    assert results[0]["test"] == results[1]["test"]
    a, b = (load_weights(tmp_path / str(i) / "model.safetensors") for i in (0, 1))
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])


def test_config_file_declares_a_network_and_flags_override_it(tmp_path):
    config = tmp_path / "net.toml"
    config.write_text("""
seed = 3
[model]
layers = [
  {type = "Conv2d", out_channels = 4, kernel_size = 3, padding = 1}, {type = "BatchNorm2d"}, {type = "ReLU"},
  {type = "Residual", block = [{type = "Conv2d", out_channels = 4, kernel_size = 3, padding = 1}, {type = "ReLU"}]},
  {type = "MaxPool2d", kernel_size = 2}, {type = "Flatten"}, {type = "Dropout", p = 0.1}, {type = "Linear"},
]
[optimizer]
name = "momentum"
lr = 0.05
[schedule]
name = "cosine"
[regularization]
l2 = 0.0001
clip_grad_norm = 5.0
label_smoothing = 0.05
[training]
epochs = 5
""")
    status, out, err = invoke("train", config, "--epochs", 2, "--out", tmp_path / "run", "--json")
    assert status == 0, err
    resolved = read_toml(tmp_path / "run" / "config.toml")
    assert resolved["training"]["epochs"] == 2 and resolved["optimizer"]["name"] == "momentum"
    assert resolved["model"]["layers"][3]["type"] == "Residual"
    assert parse_json(out)["epochs"] == 2
    # the resolved config repeats the run exactly
    status, out2, err = invoke("train", tmp_path / "run" / "config.toml", "--out", tmp_path / "again", "--json")
    assert status == 0, err
    assert parse_json(out2)["test"] == parse_json(out)["test"]


@pytest.mark.parametrize("args,match", [
    (["--model", "transformer"], r"unknown preset 'transformer'"),
    (["--data", "imagenet"], r"unknown data set 'imagenet'"),
    (["--data", "missing/dir"], r"missing/dir"),
    (["--epochs", "0"], r"'training.epochs' must be >= 1, got 0"),
    (["--lr", "-1"], r"'optimizer.lr' must be > 0.0"),
    (["--model", "lenet", "--data", "tab.csv"], r"preset 'lenet' needs images"),
    (["nope.toml"], r"nope.toml: no such file"),
])
def test_mistakes_are_one_line_errors(tmp_path, monkeypatch, args, match):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tab.csv").write_text("\n".join(f"{i % 3},{i},{i * 2},{i % 5}" for i in range(30)) + "\n")
    status, out, err = invoke("train", *args, "--out", tmp_path / "run")
    assert_clean_error(status, err, 2, match)


def test_bad_toml_and_layers_that_do_not_chain(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[model\npreset = 'mlp'\n")
    assert_clean_error(*invoke("train", bad)[::2], 2, r"bad.toml: invalid TOML")
    unknown = tmp_path / "unknown.toml"
    unknown.write_text("[optimizer]\nnmae = 'adam'\n")
    assert_clean_error(*invoke("train", unknown)[::2], 2, r"unknown setting 'optimizer.nmae'")
    chain = tmp_path / "chain.toml"
    chain.write_text('[model]\nlayers = [{type = "Flatten"}, {type = "Linear", in_features = 100, out_features = 8},'
                     ' {type = "Linear"}]\n')
    assert_clean_error(*invoke("train", chain)[::2], 2,
                       r"model.layers\[1\] \(Linear\): in_features = 100 but the input is \(N, 64\)")
    layer = tmp_path / "layer.toml"
    layer.write_text('[model]\nlayers = [{type = "Attention"}]\n')
    assert_clean_error(*invoke("train", layer)[::2], 2, r"unknown layer type 'Attention'")


def test_unwritable_run_directory(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    status, _, err = invoke("train", "--out", blocker / "run")
    assert_clean_error(status, err, 2, r"cannot write the run directory")


def test_an_existing_run_is_not_overwritten(tmp_path):
    assert invoke("train", "--epochs", 1, "--out", tmp_path / "run", "--quiet")[0] == 0
    before = (tmp_path / "run" / "model.safetensors").read_bytes()
    status, _, err = invoke("train", "--epochs", 1, "--out", tmp_path / "run")
    assert_clean_error(status, err, 2, r"already holds a run; use --resume")
    assert (tmp_path / "run" / "model.safetensors").read_bytes() == before


def test_resume_extends_a_finished_run_to_the_same_weights(tmp_path):
    assert invoke("train", "--epochs", 4, "--out", tmp_path / "full", "--quiet")[0] == 0
    assert invoke("train", "--epochs", 2, "--out", tmp_path / "part", "--quiet")[0] == 0
    status, out, err = invoke("train", "--resume", tmp_path / "part", "--epochs", 4, "--json")
    assert status == 0, err
    a, b = (load_weights(tmp_path / d / "model.safetensors") for d in ("full", "part"))
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    assert (tmp_path / "full" / "metrics.csv").read_text() .count("\n") == (tmp_path / "part" / "metrics.csv").read_text().count("\n")
    assert_clean_error(*invoke("train", "--resume", tmp_path / "part", "--lr", 1)[::2], 2, r"--lr cannot change it")
    assert_clean_error(*invoke("train", "--resume", tmp_path / "part")[::2], 2, r"already trained 4 epochs")
    assert_clean_error(*invoke("train", "--resume", tmp_path / "nothing")[::2], 2, r"not a run directory")


def _train_until_interrupted(out_dir, epochs):
    """Starts a real training process, sends it SIGINT once it has finished an epoch, returns it."""
    proc = subprocess.Popen([sys.executable, "-m", "nntrain", "train", "--epochs", str(epochs), "--batch-size", "16",
                             "--out", str(out_dir), "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p)))
    deadline = time.time() + 120
    while not (out_dir / "metrics.csv").exists():
        assert proc.poll() is None, proc.communicate()
        assert time.time() < deadline
        time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    return proc.returncode, out, err


def test_ctrl_c_saves_a_checkpoint_and_resume_reaches_the_uninterrupted_weights(tmp_path):
    epochs = 40
    status, _, err = _train_until_interrupted(tmp_path / "cut", epochs)
    assert status == 130, err
    assert "Interrupted at epoch" in err and "--resume" in err and "Traceback" not in err
    resumed = run_process("train", "--resume", tmp_path / "cut", "--quiet")
    assert resumed.returncode == 0, resumed.stderr
    full = run_process("train", "--epochs", epochs, "--batch-size", 16, "--out", tmp_path / "full", "--quiet")
    assert full.returncode == 0, full.stderr
    a, b = (load_weights(tmp_path / d / "model.safetensors") for d in ("full", "cut"))
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])


FASHION = "/usr/share/datasets/fashion-mnist"


@pytest.mark.skipif(not os.path.isdir(FASHION), reason=f"Fashion-MNIST not installed in {FASHION} "
                    "(apt-get install -y dataset-fashion-mnist)")
def test_mlp_on_real_fashion_mnist_reaches_82_percent_in_one_epoch(tmp_path):
    result = run_process("train", "--model", "mlp", "--data", "fashion-mnist", "--epochs", 1, "--out",
                         tmp_path / "run", "--json")
    assert result.returncode == 0, result.stderr
    assert parse_json(result.stdout)["test"]["accuracy"] >= 0.82


def test_corrupt_data_and_labels_out_of_range_are_one_line_errors(tmp_path):
    import gzip

    folder = tmp_path / "idx"
    folder.mkdir()
    header = (0x0803).to_bytes(4, "big") + (100).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2
    (folder / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(header + bytes(1000)))  # truncated
    (folder / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress((0x0801).to_bytes(4, "big")
                                                                      + (100).to_bytes(4, "big") + bytes(100)))
    status, _, err = invoke("train", "--data", folder, "--out", tmp_path / "run")
    assert_clean_error(status, err, 2, r"train-images-idx3-ubyte.gz")
    np.savez(tmp_path / "labels.npz", x=np.zeros((4, 3), np.float32), y=np.array([0, 1, -2, 1]))
    status, _, err = invoke("train", "--data", tmp_path / "labels.npz", "--out", tmp_path / "run2")
    assert_clean_error(status, err, 2, r"labels.npz: .*-2")


def test_divergence_stops_with_a_message_and_keeps_the_last_good_checkpoint(tmp_path):
    # The learning rate grows 10^4-fold each epoch: epoch 1 trains, epoch 2 blows up.
    config = tmp_path / "diverge.toml"
    config.write_text('[optimizer]\nname = "sgd"\nlr = 0.01\n[schedule]\nname = "exponential"\ngamma = 100000.0\n'
                      '[training]\nepochs = 5\n')
    status, _, err = invoke("train", config, "--out", tmp_path / "run")
    assert_clean_error(status, err, 1, r"training stopped: (loss became (nan|inf)|gradient became non-finite) "
                                       r"at epoch 2, step \d+")
    state = load_weights(tmp_path / "run" / "checkpoint.safetensors")
    assert all(np.isfinite(v).all() for v in state.values())
    from nntrain.checkpoint import load_checkpoint

    assert load_checkpoint(tmp_path / "run" / "checkpoint.safetensors").meta["trainer"]["epoch"] == 1


def test_same_seed_and_threads_give_bit_identical_metrics_and_weights(tmp_path):
    runs = []
    for i in range(2):
        assert invoke("train", "--model", "cnn", "--epochs", 2, "--out", tmp_path / str(i), "--quiet",
                      "--threads", 2)[0] == 0
        with open(tmp_path / str(i) / "metrics.csv") as f:
            rows = [{k: v for k, v in r.items() if k not in ("seconds", "samples_per_second")}
                    for r in csv.DictReader(f)]
        runs.append((rows, load_weights(tmp_path / str(i) / "model.safetensors")))
    assert runs[0][0] == runs[1][0]
    for k in runs[0][1]:
        np.testing.assert_array_equal(runs[0][1][k], runs[1][1][k])


def test_init_from_a_mismatched_weights_file_names_it(tmp_path):
    assert invoke("train", "--epochs", 1, "--out", tmp_path / "a", "--quiet")[0] == 0
    status, out, err = invoke("train", "--epochs", 1, "--out", tmp_path / "b", "--json",
                              "--init-from", tmp_path / "a" / "model.safetensors")
    assert status == 0, err
    status, _, err = invoke("train", "--model", "cnn", "--out", tmp_path / "c",
                            "--init-from", tmp_path / "a" / "model.safetensors")
    assert_clean_error(status, err, 2, r"model.safetensors: does not fit this model: .*missing keys")


@pytest.mark.parametrize("args, match", [
    (["--workers", -1], r"'data.workers' must be >= 0, got -1"),
    (["--augment", "flip,spin"], r"'data.augment': unknown value 'spin' \(choose from flip, crop, rotate, jitter\)"),
    (["--image-size", 0, 5], r"'data.image_size' must be \[height, width\] \(positive integers\)"),
    (["--image-size", 4, 4], r"'data.image_size' resizes images read from an image folder; digits is not one"),
    (["--val-split", 0.5, "--test-split", 0.5], r"'data.val_split' \+ 'data.test_split' must be < 1"),
    (["--augment", "flip", "--data", "tab.csv"], r"'data.augment' changes images \(C, H, W\), but tab.csv holds"),
])
def test_each_flag_is_checked_as_its_setting(tmp_path, monkeypatch, args, match):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tab.csv").write_text("\n".join(f"{i % 3},{i},{i * 2},{i % 5}" for i in range(30)) + "\n")
    assert_clean_error(*invoke("train", *args, "--out", tmp_path / "run")[::2], 2, match)


def test_a_toml_setting_stands_unless_its_flag_is_given(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text("[data]\nval_split = 0.25\ntest_split = 0.0\n")
    status, out, err = invoke("train", config, "--epochs", 1, "--out", tmp_path / "a", "--json", "--test-split", 0.0)
    assert status == 0, err
    assert parse_json(out)["val"]["samples"] == 359  # a quarter of the 1,437 training digits
    assert read_toml(tmp_path / "a" / "config.toml")["data"]["val_split"] == 0.25


def test_resume_takes_only_the_flags_that_do_not_change_the_run(tmp_path):
    assert invoke("train", "--epochs", 1, "--out", tmp_path / "run", "--quiet")[0] == 0
    status, _, err = invoke("train", "--resume", tmp_path / "run", "--augment", "flip", "--seed", 3)
    assert_clean_error(status, err, 2,
                       r"--seed, --augment cannot change it \(only --epochs, --threads, --workers, --cache-images "
                       r"can\)")
    status, out, err = invoke("train", "--resume", tmp_path / "run", "--epochs", 2, "--workers", 1, "--json")
    assert status == 0 and parse_json(out)["epochs"] == 2, err


def test_schedule_flag(tmp_path):
    status, _, err = invoke("train", "--epochs", 3, "--schedule", "cosine", "--out", tmp_path / "run", "--quiet")
    assert status == 0, err
    with open(tmp_path / "run" / "metrics.csv") as f:
        rates = [float(r["lr"]) for r in csv.DictReader(f)]
    assert rates[0] == 0.001 and rates[0] > rates[1] > rates[2] > 0
    assert read_toml(tmp_path / "run" / "config.toml")["schedule"]["name"] == "cosine"
