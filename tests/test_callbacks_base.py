"""The callback state protocol: every callback's state travels in the trainer's checkpoint (arrays as
tensors), and a run interrupted at an epoch end or mid-epoch and resumed from its checkpoint ends exactly
as the uninterrupted run: same weights, same learning rate, same callback states, same files."""

import os
import warnings

import numpy as np
import pytest

from nntrain import checkpoint as ckpt
from nntrain import data, nn, optim
from nntrain.callbacks import (Callback, EarlyStopping, GradNormLogger, LRScheduler, ModelCheckpoint,
                               ReduceLROnPlateau)
from nntrain.train import Trainer, TrainingInterrupted

EPOCHS = 10


def problem():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((96, 6)).astype(np.float32)
    y = ((x[:, 0] + 0.8 * rng.standard_normal(96)) > 0).astype(np.int64)  # noisy: validation loss wanders
    return data.ArrayDataset(x[:64], y[:64], 2, "train"), data.ArrayDataset(x[64:], y[64:], 2, "val")


class SaveCheckpoint(Callback):
    """What a run does: a checkpoint at every epoch end -- listed first, so before the others observe the
    epoch -- and, when asked, an interrupt after a given global step."""

    def __init__(self, setup, path, interrupt_after=None):
        self.setup, self.path, self.interrupt_after, self.steps = setup, path, interrupt_after, 0

    def on_batch_end(self, trainer, epoch, step, loss, batch_size):
        self.steps += 1
        if self.steps == self.interrupt_after:
            trainer.request_interrupt()

    def on_epoch_end(self, trainer, metrics):
        self.setup.save(self.path)


class Setup:
    def __init__(self, directory, interrupt_after=None):
        train, self.val = problem()
        rng = np.random.default_rng(0)
        self.model = nn.Sequential(nn.Linear(6, 8, rng=rng), nn.Tanh(), nn.Linear(8, 2, rng=rng))
        self.opt = optim.SGD(self.model.parameters(), lr=0.1, momentum=0.9)
        self.loader = data.DataLoader(train, batch_size=16, shuffle=True, seed=0)
        self.callbacks = [
            SaveCheckpoint(self, os.path.join(directory, "checkpoint.safetensors"), interrupt_after),
            EarlyStopping(patience=4, restore_best_weights=True),
            ReduceLROnPlateau(factor=0.5, patience=1),
            ModelCheckpoint(os.path.join(directory, "best.safetensors"), save_best_only=True),
            GradNormLogger(os.path.join(directory, "grad_norms.csv"), every=3),
        ]
        self.trainer = Trainer(self.model, self.opt, callbacks=self.callbacks)

    def save(self, path):
        ckpt.save_checkpoint(path, self.model, self.opt, trainer=self.trainer.state_dict(),
                             loader=self.loader.state_dict())

    def load(self, path):
        state = ckpt.load_checkpoint(path)
        self.model.load_state_dict(state.model_state)
        self.opt.load_state_dict(state.optimizer_state)
        self.trainer.load_state_dict(state.meta["trainer"])
        self.loader.load_state_dict(state.meta["loader"])

    def fit(self, epochs):
        return self.trainer.fit(self.loader, self.val, epochs=epochs)


def outcome(setup, directory):
    with open(os.path.join(directory, "grad_norms.csv")) as f:
        csv_text = f.read()
    setup.callbacks[3].last_path = os.path.basename(setup.callbacks[3].last_path)  # the directories differ
    return ([p.data.copy() for p in setup.model.parameters()], setup.opt.param_groups[0]["lr"],
            [cb.state_dict() for cb in setup.callbacks[1:]], csv_text,
            ckpt.load_weights(os.path.join(directory, "best.safetensors")))


def same(a, b):
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, np.ndarray):
        return np.array_equal(a, b)
    return a == b or (a != a and b != b)


@pytest.mark.parametrize("stop", ["epoch end", "mid-epoch"])
def test_an_interrupted_run_with_callbacks_resumes_exactly(tmp_path, stop):
    warnings.simplefilter("ignore")
    whole_dir, part_dir = tmp_path / "whole", tmp_path / "part"
    whole_dir.mkdir(), part_dir.mkdir()
    whole = Setup(whole_dir)
    whole.fit(EPOCHS)
    # The test exercises what it should: the best epoch is 4, the rate is cut 4 times after it, training stops at 8.
    stopper = whole.callbacks[1]
    assert (stopper.best_epoch, stopper.stopped_epoch, whole.opt.param_groups[0]["lr"]) == (4, 8, 0.00625)
    expected = outcome(whole, whole_dir)

    # 4 steps per epoch: stop after epoch 4 (the best: caught up on resume from the model) or inside it
    first = Setup(part_dir, interrupt_after=14 if stop == "mid-epoch" else None)
    if stop == "mid-epoch":
        with pytest.raises(TrainingInterrupted):
            first.fit(EPOCHS)
        first.save(part_dir / "checkpoint.safetensors")
    else:
        first.fit(4)
    with open(part_dir / "grad_norms.csv", "a") as f:
        f.write("999,9,0,weight,1,1\n")  # a row logged after the checkpoint, before a crash: dropped on resume
    resumed = Setup(part_dir)
    resumed.load(part_dir / "checkpoint.safetensors")
    resumed.fit(EPOCHS)
    assert same(outcome(resumed, part_dir), expected)


def test_callback_states_are_keyed_by_class_and_arrays_become_tensors(tmp_path, rng):
    model = nn.Sequential(nn.Linear(6, 2, rng=rng))
    stoppers = [EarlyStopping(patience=9, restore_best_weights=True), EarlyStopping("val_accuracy", patience=9)]
    trainer = Trainer(model, optim.SGD(model.parameters(), lr=0.1), callbacks=stoppers)
    train, val = problem()
    trainer.fit(data.DataLoader(train, batch_size=16), val, epochs=2)
    state = trainer.state_dict()
    assert set(state["callbacks"]) == {"EarlyStopping", "EarlyStopping#2"}
    path = tmp_path / "c.safetensors"
    ckpt.save_checkpoint(path, model, trainer=state)
    tensors = ckpt.load_weights(path)
    assert {k for k in tensors if k.startswith("meta.")} == {"meta.2", "meta.3"}  # the best weight and bias
    back = ckpt.load_checkpoint(path).meta["trainer"]["callbacks"]
    assert same(back, state["callbacks"])
    fresh = [EarlyStopping(patience=9, restore_best_weights=True), EarlyStopping("val_accuracy", patience=9)]
    again = Trainer(model, optim.SGD(model.parameters(), lr=0.1), callbacks=fresh)
    again.load_state_dict(ckpt.load_checkpoint(path).meta["trainer"])
    again.fit(data.DataLoader(train, batch_size=16), val, epochs=2)  # nothing to train: states handed over
    assert same([s.state_dict() for s in fresh], [s.state_dict() for s in stoppers])


def test_lr_scheduler_refuses_to_step_the_trainers_own_schedule_twice(rng):
    model = nn.Sequential(nn.Linear(6, 2, rng=rng))
    opt = optim.SGD(model.parameters(), lr=0.1)
    schedule = optim.lr_scheduler.StepLR(opt, 1)
    trainer = Trainer(model, opt, scheduler=schedule, callbacks=[LRScheduler(schedule)])
    with pytest.raises(ValueError, match="would step twice"):
        trainer.fit(data.DataLoader(problem()[0], batch_size=16), epochs=1)
