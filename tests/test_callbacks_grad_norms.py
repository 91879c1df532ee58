"""GradNormLogger: the CSV holds the norms the model produced; a deep sigmoid MLP's vanishing gradient is
reported and a ReLU one's is not; exploding gradients are reported once per layer per epoch; the plot."""

import csv
import math
import warnings

import numpy as np
import pytest

from nntrain import GradientWarning, data, nn, optim
from nntrain.callbacks import Callback, GradNormLogger
from nntrain.callbacks.grad_norms import layer_norms
from nntrain.train import Trainer


@pytest.fixture(scope="module")
def digits():
    splits, _ = data.normalise(data.load_digits())
    return splits.train.subset(np.arange(640))  # 10 batches of 64: enough to see it, quick to run


def deep_mlp(activation, hidden_layers=8, width=64):
    rng = np.random.default_rng(0)
    layers, features = [nn.Flatten()], 64
    for _ in range(hidden_layers):
        layers += [nn.Linear(features, width, rng=rng), activation()]
        features = width
    return nn.Sequential(*layers, nn.Linear(features, 10, rng=rng))


class NormsAtLoggedSteps(Callback):
    def __init__(self, every):
        self.every, self.step, self.norms = every, 0, {}

    def on_batch_end(self, trainer, epoch, step, loss, batch_size):
        self.step += 1
        if self.step % self.every == 0:
            self.norms[self.step] = (trainer.model.grad_norms(), trainer.model.weight_norms())


def train_logged(model, digits, tmp_path, every=5):
    logger, truth = GradNormLogger(tmp_path / "grad_norms.csv", every=every), NormsAtLoggedSteps(every)
    trainer = Trainer(model, optim.SGD(model.parameters(), lr=0.1), callbacks=[logger, truth])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        trainer.fit(data.DataLoader(digits, batch_size=64, shuffle=True, seed=0), epochs=1)
    return logger, truth, [w for w in caught if issubclass(w.category, GradientWarning)]


def test_a_deep_sigmoid_mlp_warns_of_vanishing_gradients_and_relu_does_not(digits, tmp_path):
    sigmoid = deep_mlp(nn.Sigmoid)
    logger, truth, caught = train_logged(sigmoid, digits, tmp_path / "sigmoid")
    assert caught, "no vanishing-gradient warning for 8 sigmoid layers"
    message = str(caught[0].message)
    assert message.startswith("vanishing gradient: layer '1' has gradient norm") and "\n" not in message
    assert len({str(w.message).split("'")[1] for w in caught}) == len(caught)  # once per layer
    # The warning reports what the model really does: the first layer's gradient norm is below 1e-6 of
    # the largest, as model.grad_norms() gives it after a backward.
    _, layers = layer_norms(sigmoid)
    assert layers["1"] < 1e-6 * max(layers.values())

    relu = deep_mlp(nn.ReLU)
    _, _, caught = train_logged(relu, digits, tmp_path / "relu")
    assert not caught
    _, layers = layer_norms(relu)
    assert min(layers.values()) > 1e-3 * max(layers.values())


def test_the_csv_holds_every_parameters_norms_at_every_logged_step(digits, tmp_path):
    logger, truth, _ = train_logged(deep_mlp(nn.ReLU, hidden_layers=2), digits, tmp_path, every=4)
    with open(tmp_path / "grad_norms.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["step", "epoch", "layer", "parameter", "grad_norm", "weight_norm"]
    steps = sorted({int(r["step"]) for r in rows})
    assert steps == sorted(truth.norms) == [4, 8]  # of 10 steps
    for r in rows:
        grads, weights = truth.norms[int(r["step"])]
        name = f"{r['layer']}.{r['parameter']}"
        assert float(r["grad_norm"]) == pytest.approx(grads[name], rel=1e-5)
        assert float(r["weight_norm"]) == pytest.approx(weights[name], rel=1e-5)
    assert logger.plot_path == str(tmp_path / "grad_norms.png")
    with open(logger.plot_path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    assert list(logger.history) == ["1", "3", "5"] and len(logger.history["1"]) == len(steps)


def test_a_frozen_layer_is_left_out_not_reported_as_vanished(digits, tmp_path):
    model = deep_mlp(nn.ReLU, hidden_layers=2)
    for p in model[1].parameters():
        p.requires_grad = False
    logger, truth, caught = train_logged(model, digits, tmp_path, every=4)
    assert not caught and list(logger.history) == ["3", "5"]
    with open(tmp_path / "grad_norms.csv", newline="") as f:
        assert {r["layer"] for r in csv.DictReader(f)} == {"3", "5"}


def test_exploding_gradients_warn_once_per_layer_per_epoch(tmp_path):
    logger = GradNormLogger(tmp_path / "g.csv")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        logger.check({"0": 1.0, "2": 1.0}, epoch=1, step=10)
        logger.check({"0": 999.0, "2": 1.0}, epoch=1, step=20)    # 999 times: not yet
        logger.check({"0": 1500.0, "2": 2.0}, epoch=1, step=30)   # 1500 times its start of epoch
        logger.check({"0": 3000.0, "2": 2.0}, epoch=1, step=40)   # already reported this epoch
        logger.check({"0": 1.0, "2": 1.0}, epoch=2, step=50)      # a new epoch, a new reference
        logger.check({"0": 2000.0, "2": 1.0}, epoch=2, step=60)
    messages = [str(w.message) for w in caught]
    assert messages == [
        "exploding gradient: layer '0' has gradient norm 1.5e+03, 1.5e+03 times its 1 at the start of the epoch "
        "at epoch 1, step 30",
        "exploding gradient: layer '0' has gradient norm 2e+03, 2e+03 times its 1 at the start of the epoch "
        "at epoch 2, step 60"]
    assert all(w.category is GradientWarning for w in caught)


def test_bad_arguments_are_refused(tmp_path):
    with pytest.raises(ValueError, match="every must be an integer >= 1"):
        GradNormLogger(tmp_path / "g.csv", every=0)
    assert math.isclose(GradNormLogger(tmp_path / "g.csv").vanishing_ratio, 1e-6)
