"""ModelCheckpoint: a file per epoch named from the metrics, only the best ones, or full checkpoints."""

import os

import numpy as np
import pytest

from nntrain import checkpoint as ckpt
from nntrain import data, nn, optim
from nntrain.callbacks import Callback, ModelCheckpoint
from nntrain.train import Trainer


def toy(rng, n=64):
    x = rng.standard_normal((n, 6)).astype(np.float32)
    y = ((x[:, 0] + rng.standard_normal(n)) > 0).astype(np.int64)
    return data.ArrayDataset(x, y, 2, "toy")


class WeightsEachEpoch(Callback):
    def __init__(self):
        self.weights = {}

    def on_epoch_end(self, trainer, metrics):
        self.weights[metrics.epoch] = {k: v.copy() for k, v in trainer.model.state_dict().items()}


def fit(rng, callback, epochs=6, lr=0.3):
    model = nn.Sequential(nn.Linear(6, 8, rng=rng), nn.Tanh(), nn.Linear(8, 2, rng=rng))
    seen = WeightsEachEpoch()
    trainer = Trainer(model, optim.SGD(model.parameters(), lr=lr, momentum=0.9), callbacks=[seen, callback])
    ds = toy(rng)
    history = trainer.fit(data.DataLoader(ds, batch_size=16, shuffle=True, seed=0), toy(rng, 48), epochs=epochs)
    return trainer, history, seen.weights


def test_every_epoch_gets_a_file_named_from_its_metrics(tmp_path, rng):
    saver = ModelCheckpoint(tmp_path / "ckpt" / "model-{epoch:02d}-{val_loss:.3f}.safetensors")
    _, history, weights = fit(rng, saver, epochs=3)
    names = sorted(os.listdir(tmp_path / "ckpt"))
    assert names == [f"model-{m.epoch:02d}-{m.val_loss:.3f}.safetensors" for m in history]
    for m, name in zip(history, names):
        stored = ckpt.load_weights(tmp_path / "ckpt" / name)
        assert all(np.array_equal(stored[k], weights[m.epoch][k]) for k in stored)


def test_save_best_only_keeps_the_weights_of_the_best_epoch(tmp_path, rng):
    saver = ModelCheckpoint(tmp_path / "best.safetensors", "val_accuracy", save_best_only=True)
    _, history, weights = fit(rng, saver)
    accuracies = [m.val_accuracy for m in history]
    best = history[int(np.argmax(accuracies))].epoch  # the first of equal bests: a tie is no improvement
    assert saver.best_epoch == best and saver.best.value == max(accuracies)
    stored = ckpt.load_weights(tmp_path / "best.safetensors")
    assert all(np.array_equal(stored[k], weights[best][k]) for k in stored)
    assert best != history[-1].epoch  # the test means something: later epochs did not overwrite it


def test_full_checkpoints_carry_optimiser_and_trainer_state(tmp_path, rng):
    saver = ModelCheckpoint(tmp_path / "last.safetensors", save_weights_only=False)
    trainer, history, _ = fit(rng, saver, epochs=2)
    state = ckpt.load_checkpoint(tmp_path / "last.safetensors")
    assert state.optimizer_type == "SGD" and state.meta["trainer"]["epoch"] == 2
    # written while observing epoch 2: a resume from it catches up on that epoch (and rewrites the same file)
    assert state.meta["trainer"]["callbacks"]["ModelCheckpoint"]["last_epoch"] == 1
    assert all(np.array_equal(v, trainer.model.state_dict()[k]) for k, v in state.model_state.items())


def test_a_path_naming_an_unknown_metric_is_a_clear_error(tmp_path, rng):
    with pytest.raises(ValueError, match=r"cannot fill in the path .*'val_f1'.* it may name the epoch metrics epoch, "):
        fit(rng, ModelCheckpoint(tmp_path / "m-{val_f1}.safetensors"), epochs=1)
