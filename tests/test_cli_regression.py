"""`nntrain train --task regression`: float targets from an .npz or .csv, MSE or L1, MAE/RMSE/R2 in place of accuracy
(progress line, metrics.csv, the JSON result, curves.png, eval, predict); each mistake one `Error:` line."""

import csv
import json

import numpy as np
import pytest

from cli_helpers import assert_clean_error, invoke, parse_json, run_process


def linear_data(n, outputs=1, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 6)).astype(np.float32)
    w = rng.normal(size=(6, outputs))
    y = x @ w + 0.5 + 0.05 * rng.normal(size=(n, outputs))
    return x, (y[:, 0] if outputs == 1 else y).astype(np.float32)


@pytest.fixture(scope="module")
def npz(tmp_path_factory):
    """Train and test parts of a noisy linear function of 6 inputs."""
    path = tmp_path_factory.mktemp("data") / "linear.npz"
    (x, y), (xt, yt) = linear_data(800), linear_data(200, seed=1)
    np.savez(path, x_train=x, y_train=y, x_test=xt, y_test=yt)
    return path


@pytest.fixture(scope="module")
def run(npz, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "reg"
    done = run_process("train", "--data", npz, "--task", "regression", "--epochs", 8, "--lr", 0.01, "--out", out)
    assert done.returncode == 0, done.stderr
    return out, done.stdout


def test_progress_reports_mae_rmse_and_r2_instead_of_accuracy(run):
    _, stdout = run
    lines = stdout.splitlines()
    assert "1 target ->" in lines[0]
    epochs = [line for line in lines if line.startswith("epoch")]
    assert len(epochs) == 8 and all(" mae " in e and " rmse " in e and " r2 " in e for e in epochs)
    assert not any(" acc " in e for e in epochs)
    assert lines[-1].startswith("test MAE ") and " R2 " in lines[-1]


def test_metrics_csv_columns_are_the_epochs_metrics_without_accuracy(run):
    run_dir, _ = run
    with open(run_dir / "metrics.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["epoch", "train_loss", "val_loss", "lr", "seconds", "samples_per_second", "val_mae",
                             "val_rmse", "val_r2"]
    assert float(rows[-1]["val_r2"]) > 0.95 and float(rows[-1]["val_rmse"]) < float(rows[0]["val_rmse"])
    assert (run_dir / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_scores_are_scikit_learns_on_the_models_predictions(run, npz):
    metrics = pytest.importorskip("sklearn.metrics")
    from nntrain.run import load_trained_model, normalizer_of

    run_dir, _ = run
    status, out, err = invoke("eval", run_dir, "--json")
    assert status == 0, err
    result = json.loads(out)
    assert "accuracy" not in result and "confusion" not in result and result["samples"] == 200
    model, meta = load_trained_model(run_dir)
    with np.load(npz) as data:
        x, y = data["x_test"], data["y_test"]
    pred = model(normalizer_of(meta).apply(x))[:, 0]
    assert result["mae"] == pytest.approx(metrics.mean_absolute_error(y, pred), rel=1e-5)
    assert result["rmse"] == pytest.approx(np.sqrt(metrics.mean_squared_error(y, pred)), rel=1e-5)
    assert result["r2"] == pytest.approx(metrics.r2_score(y, pred), rel=1e-5)
    assert result["loss"] == pytest.approx(metrics.mean_squared_error(y, pred), rel=1e-4)  # MSE is the loss
    status, out, err = invoke("eval", run_dir)
    assert status == 0, err
    assert f"MAE {result['mae']:.4g}" in out and "confusion" not in out
    np.save(run_dir / "x.npy", x[:3])
    status, out, err = invoke("predict", run_dir, run_dir / "x.npy", "--json")
    assert status == 0, err
    values = [p["value"] for p in json.loads(out)["predictions"]]
    np.testing.assert_allclose(np.ravel(values), pred[:3], rtol=1e-6)


def test_l1_loss_on_a_csv_of_target_then_values(tmp_path):
    x, y = linear_data(500)
    path = tmp_path / "linear.csv"
    np.savetxt(path, np.c_[y, x], delimiter=",", fmt="%.7g")  # target,value,value,...
    status, out, err = invoke("train", "--data", path, "--task", "regression", "--loss", "l1", "--epochs", 6,
                              "--lr", 0.01, "--out", tmp_path / "run", "--json")
    assert status == 0, err
    result = parse_json(out)
    assert set(result["train"]) == {"loss"} and "accuracy" not in result["val"]
    assert result["val"]["loss"] == pytest.approx(result["val"]["mae"], rel=1e-5)  # L1 of one output is the MAE
    assert result["val"]["r2"] > 0.9


def test_several_target_columns_give_as_many_outputs(tmp_path):
    x, y = linear_data(600, outputs=3)
    np.savez(tmp_path / "multi.npz", x=x, y=y)
    status, out, err = invoke("train", "--data", tmp_path / "multi.npz", "--task", "regression", "--epochs", 6,
                              "--lr", 0.01, "--out", tmp_path / "run", "--json")
    assert status == 0, err
    assert parse_json(out)["val"]["r2"] > 0.9
    from nntrain.checkpoint import load_weights

    assert load_weights(tmp_path / "run" / "model.safetensors")["5.weight"].shape[0] == 3


def test_each_mistake_is_one_error_line(tmp_path, npz):
    def error(*args, match):
        status, _, err = invoke("train", *args, "--out", tmp_path / "run")
        assert_clean_error(status, err, match=match)

    error("--task", "regression", match=r"--task regression reads float targets from an \.npz or \.csv given with "
                                        r"--data; digits holds class labels")
    (tmp_path / "images" / "a").mkdir(parents=True)
    error("--task", "regression", "--data", tmp_path / "images", match=r"images: regression reads float targets")
    error("--data", npz, "--loss", "mse", match=r"'training\.loss' = mse is a regression loss; give --task regression")
    error("--data", npz, "--task", "regression", "--loss", "cross_entropy",
          match=r"'training\.loss' = cross_entropy compares class scores with labels")
    error("--task", "regression", "--loss", "hinge", match=r"Invalid value for '--loss'")
    x, y = linear_data(50)
    y[7] = np.nan
    np.savez(tmp_path / "nan.npz", x=x, y=y)
    error("--data", tmp_path / "nan.npz", "--task", "regression",
          match=r"nan\.npz: targets holds a non-finite value .* in example 7")
    np.savez(tmp_path / "cube.npz", x=x, y=np.zeros((50, 2, 2), np.float32))
    error("--data", tmp_path / "cube.npz", "--task", "regression",
          match=r"cube\.npz: y must hold float targets of shape \(N,\) or \(N, D\)")
    np.savez(tmp_path / "floats.npz", x=x, y=y)
    error("--data", tmp_path / "floats.npz", match=r"floats\.npz: y must hold integer labels, got dtype float32")
    config = tmp_path / "smooth.toml"
    config.write_text("[regularization]\nlabel_smoothing = 0.1\n[training]\ntask = \"regression\"\n")
    error(config, "--data", npz, match=r"'regularization\.label_smoothing' smooths class labels")


def test_eval_plot_of_a_regression_run_is_one_error_line(run):
    run_dir, _ = run
    status, _, err = invoke("eval", run_dir, "--plot")
    assert_clean_error(status, err, match="a regression model has none")


def test_eval_on_data_with_other_target_columns_is_one_error_line(run, tmp_path):
    run_dir, _ = run
    x, y = linear_data(40, outputs=2)
    np.savez(tmp_path / "two.npz", x_test=x, y_test=y, x_train=x, y_train=y)
    status, _, err = invoke("eval", run_dir, "--data", tmp_path / "two.npz")
    assert_clean_error(status, err, match=r"the model predicts 1 target columns but two has 2")
