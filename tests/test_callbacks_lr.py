"""ReduceLROnPlateau against PyTorch's and by hand (cooldown, min_lr); LRScheduler per epoch and per step."""

import math

import numpy as np
import pytest

from nntrain import data, nn, optim
from nntrain.callbacks import Callback, LRScheduler, ReduceLROnPlateau
from nntrain.train import EpochMetrics, Trainer


def trainer_of(rng, lr=0.1, callbacks=()):
    model = nn.Sequential(nn.Linear(6, 2, rng=rng))
    return Trainer(model, optim.SGD(model.parameters(), lr=lr), callbacks=list(callbacks))


def rates(trainer, plateau, losses):
    """The learning rate after each epoch whose validation loss is given."""
    out = []
    for epoch, loss in enumerate(losses, start=1):
        m = EpochMetrics(epoch, 1.0, 0.5, val_loss=loss)
        trainer.history.append(m)
        plateau.on_epoch_end(trainer, m)
        out.append(trainer.optimizer.param_groups[0]["lr"])
    return out


LOSSES = [1.0, 0.9, 0.95, 0.92, 0.91, 0.85, 0.86, 0.87, 0.88, 0.89, 0.9, 0.84, 0.845, 0.846, 0.9, 0.9]


@pytest.mark.torch
@pytest.mark.parametrize("patience", [1, 2, 3])
@pytest.mark.parametrize("cooldown", [0, 2])
def test_reduce_on_plateau_matches_pytorch(rng, patience, cooldown):
    torch = pytest.importorskip("torch")
    t_opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    # Keras' and Paddle's patience p (reduce on the p-th bad epoch) is PyTorch's p - 1 (reduce when more than p).
    t_plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(t_opt, factor=0.5, patience=patience - 1,
                                                           threshold=0.01, threshold_mode="abs", min_lr=0.01,
                                                           cooldown=cooldown)
    want = []
    for loss in LOSSES:
        t_plateau.step(loss)
        want.append(t_opt.param_groups[0]["lr"])
    plateau = ReduceLROnPlateau(factor=0.5, patience=patience, min_delta=0.01, min_lr=0.01, cooldown=cooldown)
    got = rates(trainer_of(rng), plateau, LOSSES)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    assert len(set(got)) > 2


def test_cooldown_pauses_the_count_after_a_reduction_and_min_lr_is_a_floor(rng):
    plateau = ReduceLROnPlateau(factor=0.5, patience=1, cooldown=2)
    got = rates(trainer_of(rng, lr=1.0), plateau, [1.0, 2, 2, 2, 2, 2, 2])
    # epoch 2 bad -> cut; epochs 3 and 4 cool down; epoch 5 bad -> cut; 6 and 7 cool down
    assert got == [1.0, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25]
    floor = ReduceLROnPlateau(factor=0.1, patience=1, min_lr=0.05)
    assert rates(trainer_of(rng, lr=1.0), floor, [1.0, 2, 2, 2]) == [1.0, 0.1, 0.05, 0.05]


def test_reduce_on_plateau_refuses_a_schedule_on_the_same_trainer(rng):
    model = nn.Sequential(nn.Linear(6, 2, rng=rng))
    opt = optim.SGD(model.parameters(), lr=0.1)
    trainer = Trainer(model, opt, scheduler=optim.lr_scheduler.StepLR(opt, 1), callbacks=[ReduceLROnPlateau()])
    with pytest.raises(ValueError, match="also has a schedule"):
        trainer.fit(data.DataLoader(toy(rng), batch_size=16), epochs=1)
    with pytest.raises(ValueError, match="factor must be in"):
        ReduceLROnPlateau(factor=1.5)


def toy(rng, n=40):
    x = rng.standard_normal((n, 6)).astype(np.float32)
    return data.ArrayDataset(x, (x[:, 0] > 0).astype(np.int64), 2, "toy")


class RateOfEachStep(Callback):
    def __init__(self):
        self.rates = []

    def on_batch_end(self, trainer, epoch, step, loss, batch_size):
        self.rates.append(trainer.optimizer.param_groups[0]["lr"])


def test_lr_scheduler_steps_per_step(rng):
    seen = RateOfEachStep()
    trainer = trainer_of(rng, lr=0.1)
    steps = 3 * 3  # 3 epochs of 3 batches
    schedule = optim.lr_scheduler.CosineAnnealingLR(trainer.optimizer, T_max=steps)
    trainer.callbacks += [seen, LRScheduler(schedule, every="step")]  # seen reads the rate the step used
    trainer.fit(data.DataLoader(toy(rng), batch_size=16), epochs=3)
    np.testing.assert_allclose(seen.rates, [0.05 * (1 + math.cos(math.pi * k / steps)) for k in range(steps)])


def test_lr_scheduler_per_epoch_is_the_trainers_schedule(rng):
    by_trainer = trainer_of(rng)
    by_trainer.scheduler = optim.lr_scheduler.StepLR(by_trainer.optimizer, step_size=1, gamma=0.5)
    by_callback = trainer_of(rng)
    by_callback.callbacks.append(LRScheduler(optim.lr_scheduler.StepLR(by_callback.optimizer, step_size=1, gamma=0.5)))
    for t in (by_trainer, by_callback):
        t.fit(data.DataLoader(toy(rng), batch_size=16), epochs=3)
    assert [m.lr for m in by_callback.history] == [m.lr for m in by_trainer.history] == [0.1, 0.05, 0.025]
