"""`nntrain lr-find` (the range test on what `train` with the same flags would build) and the precision, recall
and F1 that `nntrain eval` prints beside the confusion matrix."""

import json

import numpy as np
import pytest

from cli_helpers import assert_clean_error, invoke

PNG = b"\x89PNG\r\n\x1a\n"


def test_lr_find_suggests_what_the_library_finds_for_the_same_run_and_draws_it(tmp_path):
    from nntrain import config as cfg
    from nntrain.lr_finder import lr_find
    from nntrain.run import Run

    status, out, err = invoke("lr-find", "--optimizer", "sgd", "--seed", 2, "--plot", tmp_path / "lr.png", "--json")
    assert status == 0, err
    result = json.loads(out)
    assert (tmp_path / "lr.png").read_bytes()[:8] == PNG and result["plot"] == str(tmp_path / "lr.png")
    run = Run(cfg.resolve(None, {"optimizer": {"name": "sgd"}, "seed": 2}), directory=None)
    expected = lr_find(run.model, run.optimizer, run.loader, run.trainer.loss_fn)
    assert result["suggestion"] == expected.suggestion and result["steps"] == len(expected.lrs)
    assert result["suggestion"] == min(result["steepest"], result["min_over_10"])
    assert 1e-4 < result["suggestion"] < 1.0  # SGD on standardised digits: neither tiny nor huge


def test_lr_find_prints_the_suggestion_and_takes_a_toml_and_the_train_flags(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "net.toml"
    config.write_text('[model]\nlayers = [{type = "Flatten"}, {type = "Linear", out_features = 32}, {type = "ReLU"}, '
                      '{type = "Linear"}]\n')
    status, out, err = invoke("lr-find", config, "--batch-size", 32, "--steps", 60)
    assert status == 0, err
    assert out.startswith("suggested learning rate ") and "nntrain train --lr " in out
    assert (tmp_path / "lr_find.png").read_bytes()[:8] == PNG
    assert not (tmp_path / "runs").exists()  # nothing kept


@pytest.mark.parametrize("args, message", [
    (("--start-lr", 0), r"need 0 < start_lr < end_lr"),
    (("--start-lr", 1, "--end-lr", 0.1), r"need 0 < start_lr < end_lr"),
    (("--steps", 5), r"num_steps must be an integer >= 10"),
    (("--data", "missing.npz"), r"missing\.npz: no such file"),
    (("--model", "transformer"), r"unknown preset 'transformer'"),
    (("--start-lr", 5, "--end-lr", 1e9), r"the loss diverged after \d+ steps; lower start_lr"),
])
def test_lr_find_mistakes_are_one_error_line(tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    status, _, err = invoke("lr-find", *args)
    assert_clean_error(status, err, match=message)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "mlp"
    status, _, err = invoke("train", "--epochs", 1, "--out", out, "-q")
    assert status == 0, err
    return out


def _pairs(confusion):
    """(true, predicted) label arrays with the counts of a confusion matrix."""
    true, pred = np.nonzero(confusion)
    counts = confusion[true, pred]
    return np.repeat(true, counts), np.repeat(pred, counts)


def test_eval_precision_recall_and_f1_per_class_are_scikit_learns(run_dir):
    metrics = pytest.importorskip("sklearn.metrics")
    status, out, err = invoke("eval", run_dir, "--json")
    assert status == 0, err
    result = json.loads(out)
    confusion = np.array(result["confusion"])
    true, pred = _pairs(confusion)
    precision, recall, f1, _ = metrics.precision_recall_fscore_support(true, pred, labels=range(10), zero_division=0)
    np.testing.assert_allclose(result["precision_per_class"], precision, rtol=1e-12)
    np.testing.assert_allclose(result["recall_per_class"], recall, rtol=1e-12)
    np.testing.assert_allclose(result["f1_per_class"], f1, rtol=1e-12)
    assert result["f1"] == pytest.approx(metrics.f1_score(true, pred, labels=range(10), average="macro"))
    assert result["precision"] == pytest.approx(precision.mean()) and result["recall"] == pytest.approx(recall.mean())


def test_eval_prints_them_beside_the_confusion_matrix(run_dir):
    status, out, err = invoke("eval", run_dir)
    assert status == 0, err
    result = json.loads(invoke("eval", run_dir, "--json")[1])
    head = out.splitlines()[0]
    assert f"precision {result['precision']:.4f}" in head and f"F1 {result['f1']:.4f} (macro averages)" in head
    table = out[out.index("per class"):out.index("confusion matrix")]
    for word in ("precision", "recall", "F1"):
        assert word in table
    row_3 = next(line for line in table.splitlines() if line.strip("│┃ ").startswith("3 "))
    assert f"{result['precision_per_class'][3]:.4f}" in row_3 and f"{result['f1_per_class'][3]:.4f}" in row_3
