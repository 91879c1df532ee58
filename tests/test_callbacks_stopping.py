"""EarlyStopping (monitor, mode, min_delta, best weights, catching up after a resume) and StopAtThreshold
(after a step or after an epoch)."""

import numpy as np
import pytest

from nntrain import data, nn, optim
from nntrain.callbacks import Callback, EarlyStopping, StopAtThreshold
from nntrain.train import EpochMetrics, Trainer


def toy(rng, n=64):
    x = rng.standard_normal((n, 6)).astype(np.float32)
    return data.ArrayDataset(x, (x[:, 0] > 0).astype(np.int64), 2, "toy")


def trainer_of(rng, callbacks=(), lr=0.1):
    model = nn.Sequential(nn.Linear(6, 2, rng=rng))
    return Trainer(model, optim.SGD(model.parameters(), lr=lr), callbacks=list(callbacks))


def play(trainer, stopper, values, monitor="val_loss"):
    """Feeds ``values`` of ``monitor`` to the stopper as successive epochs; the model's weights at epoch e
    are all e. Returns the epoch it stopped at (None if it did not)."""
    for epoch, value in enumerate(values, start=1):
        for p in trainer.model.parameters():
            p.data[...] = epoch
        m = EpochMetrics(epoch, 1.0, 0.5)
        setattr(m, monitor, value) if hasattr(m, monitor) else m.extra.update({monitor: value})
        trainer.history.append(m)
        stopper.on_epoch_end(trainer, m)
        if trainer.stop_training:
            return epoch
    return None


@pytest.mark.parametrize("monitor, values, stops_at", [
    ("val_loss", [1.0, 0.9, 0.95, 0.91, 0.92], 5),           # min: three epochs without beating 0.9
    ("val_accuracy", [0.5, 0.6, 0.55, 0.6, 0.59], 5),        # auto is max for accuracies; a tie is no improvement
    ("val_f1", [0.5, 0.6, 0.7, 0.8, 0.9], None),             # an extra metric, improving every epoch
    ("val_loss", [1.0, float("nan"), float("nan"), float("nan"), 1.1], None),  # NaN epochs are skipped
])
def test_early_stopping_counts_epochs_without_improvement(rng, monitor, values, stops_at):
    trainer = trainer_of(rng)
    stopper = EarlyStopping(monitor, patience=3)
    assert play(trainer, stopper, values, monitor) == stops_at
    assert stopper.stopped_epoch == stops_at


def test_min_delta_demands_a_real_improvement(rng):
    stopper = EarlyStopping("val_loss", patience=2, min_delta=0.05)
    assert play(trainer_of(rng), stopper, [1.0, 0.97, 0.96, 0.5]) == 3  # 0.97 and 0.96 are within min_delta


def test_restore_best_weights_puts_back_the_best_epoch(rng):
    trainer = trainer_of(rng)
    stopper = EarlyStopping("val_loss", patience=2, restore_best_weights=True)
    assert play(trainer, stopper, [1.0, 0.5, 0.7, 0.8]) == 4
    stopper.on_train_end(trainer, trainer.history)
    assert stopper.best_epoch == 2 and all((p.data == 2).all() for p in trainer.model.parameters())


def test_early_stopping_on_a_resumed_trainer_catches_up_from_the_history(rng):
    # The state saved before the last epoch was observed (a checkpoint taken by an earlier callback), or
    # none at all: either way the count continues as if uninterrupted.
    values = [1.0, 0.5, 0.7, 0.8, 0.9]
    whole = EarlyStopping(patience=3)
    play(trainer_of(rng), whole, values)
    first = trainer_of(rng)
    early = EarlyStopping(patience=3)
    play(first, early, values[:3])
    saved_before_epoch_3 = {**early.state_dict(), "last_epoch": 2, "bad_epochs": 0}
    for state in (saved_before_epoch_3, None):
        resumed = trainer_of(rng)
        resumed.load_state_dict(first.state_dict())
        stopper = EarlyStopping(patience=3)
        if state is not None:
            stopper.load_state_dict(state)
        stopper.on_train_begin(resumed)
        assert (stopper.bad_epochs, stopper.best.value) == (1, 0.5)
        assert play_from(resumed, stopper, values, start=4) == 5 == whole.stopped_epoch


def play_from(trainer, stopper, values, start):
    for epoch in range(start, len(values) + 1):
        m = EpochMetrics(epoch, 1.0, 0.5, val_loss=values[epoch - 1])
        trainer.history.append(m)
        stopper.on_epoch_end(trainer, m)
        if trainer.stop_training:
            return epoch
    return None


def test_an_unknown_monitor_names_the_metrics_there_are(rng):
    trainer = trainer_of(rng)
    with pytest.raises(ValueError, match="monitor 'val_acc' is not an epoch metric; there are: epoch, train_loss"):
        play(trainer, EarlyStopping("val_acc"), [1.0], monitor="val_loss")


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="patience must be an integer >= 1"):
        EarlyStopping(patience=0)
    with pytest.raises(ValueError, match="mode must be"):
        EarlyStopping(mode="up")
    with pytest.raises(ValueError, match="min_delta must be >= 0"):
        EarlyStopping(min_delta=-1)
    with pytest.raises(ValueError, match="only 'loss'"):
        StopAtThreshold("val_loss", every="step")
    with pytest.raises(ValueError, match="every must be"):
        StopAtThreshold(every="batch")


class Losses(Callback):
    def __init__(self):
        self.seen = []

    def on_batch_end(self, trainer, epoch, step, loss, batch_size):
        self.seen.append((epoch, step, loss))


def test_stop_at_threshold_stops_after_the_first_step_whose_loss_reaches_it(rng):
    losses = Losses()
    stop = StopAtThreshold("loss", threshold=0.3, every="step")
    trainer = trainer_of(rng, [losses, stop], lr=0.5)
    history = trainer.fit(data.DataLoader(toy(rng, 256), batch_size=16, shuffle=True, seed=0), epochs=50)
    epoch, step, loss = losses.seen[-1]
    assert loss <= 0.3 and all(l > 0.3 for _, _, l in losses.seen[:-1])
    assert (stop.stopped_epoch, stop.stopped_step) == (epoch, step) and step < 16  # mid-epoch
    assert history[-1].epoch == epoch  # the part-epoch is recorded


def test_stop_at_threshold_per_epoch_reads_the_epoch_metrics(rng):
    stop = StopAtThreshold("train_accuracy", threshold=0.9, mode="max", every="epoch")
    trainer = trainer_of(rng, [stop], lr=0.5)
    history = trainer.fit(data.DataLoader(toy(rng, 256), batch_size=16, shuffle=True, seed=0), epochs=50)
    assert history[-1].train_accuracy >= 0.9 and all(m.train_accuracy < 0.9 for m in history[:-1])
    assert stop.stopped_epoch == len(history) < 50
