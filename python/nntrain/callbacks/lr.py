"""Changing the learning rate from a callback: on a plateau of a monitored value, or by a schedule."""

import math

from .base import Best, EpochObserver, monitored, resolve_mode


class ReduceLROnPlateau(EpochObserver):
    """Multiplies every parameter group's rate by ``factor`` when ``monitor`` has not improved by more
    than ``min_delta`` for ``patience`` epochs, never below ``min_lr``; the ``cooldown`` epochs after a
    cut do not count. Patience counts as in EarlyStopping, Keras and Paddle (the cut comes on the
    patience-th bad epoch); otherwise this is PyTorch's ``ReduceLROnPlateau(patience=patience - 1,
    threshold=min_delta, threshold_mode='abs')``, whose cooldown really skips ``cooldown`` epochs (Keras'
    counts the epoch its cooldown ends in).

    A learning-rate schedule on the same trainer would overwrite the reduced rate every epoch, so the two
    together are refused.
    """

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, *, mode="auto", min_delta=1e-4, cooldown=0,
                 min_lr=0.0):
        if not 0 < factor < 1:
            raise ValueError(f"ReduceLROnPlateau: factor must be in (0, 1), got {factor}")
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 1:
            raise ValueError(f"ReduceLROnPlateau: patience must be an integer >= 1, got {patience!r}")
        if isinstance(cooldown, bool) or not isinstance(cooldown, int) or cooldown < 0:
            raise ValueError(f"ReduceLROnPlateau: cooldown must be an integer >= 0, got {cooldown!r}")
        if not min_lr >= 0:
            raise ValueError(f"ReduceLROnPlateau: min_lr must be >= 0, got {min_lr}")
        self.monitor, self.factor, self.patience = monitor, float(factor), patience
        self.cooldown, self.min_lr = cooldown, float(min_lr)
        self.best = Best(resolve_mode(mode, monitor, "ReduceLROnPlateau"), min_delta)
        self.wait = self.cooldown_left = 0

    def on_train_begin(self, trainer):
        if trainer.scheduler is not None:
            raise ValueError(f"ReduceLROnPlateau: the trainer also has a schedule ({type(trainer.scheduler).__name__}) "
                             "that would overwrite the reduced rate; use one or the other")
        super().on_train_begin(trainer)

    def observe(self, trainer, metrics, current):
        value = monitored(metrics, self.monitor, "ReduceLROnPlateau")
        if math.isnan(value):
            return
        if self.best.improves(value):
            self.best.value, self.wait = value, 0
        else:
            self.wait += 1
        if self.cooldown_left > 0:
            self.cooldown_left -= 1
            self.wait = 0
        if self.wait >= self.patience:
            for group in trainer.optimizer.param_groups:
                group["lr"] = max(group["lr"] * self.factor, self.min_lr)
            self.cooldown_left, self.wait = self.cooldown, 0

    def state_dict(self):
        return {"last_epoch": self.last_epoch, "best": self.best.value, "wait": self.wait,
                "cooldown_left": self.cooldown_left}

    def load_state_dict(self, state):
        self.last_epoch, self.best.value = int(state["last_epoch"]), float(state["best"])
        self.wait, self.cooldown_left = int(state["wait"]), int(state["cooldown_left"])


class LRScheduler(EpochObserver):
    """Steps ``scheduler`` (an ``nntrain.optim.lr_scheduler`` schedule) after every epoch, or after every
    step with ``every='step'`` (its epochs are then steps: ``CosineAnnealingLR(opt, T_max=total_steps)``).

    The trainer's own ``scheduler`` argument steps once per epoch; this callback is for stepping per step,
    or for a schedule whose state should travel with the callbacks'. Giving the same schedule to both
    would step it twice, and is refused.
    """

    def __init__(self, scheduler, every="epoch"):
        if every not in ("step", "epoch"):
            raise ValueError(f"LRScheduler: every must be 'step' or 'epoch', got {every!r}")
        self.scheduler, self.every = scheduler, every

    def on_train_begin(self, trainer):
        if trainer.scheduler is self.scheduler:
            raise ValueError("LRScheduler: this schedule is also the trainer's scheduler and would step twice")
        if self.every == "epoch":
            super().on_train_begin(trainer)

    def on_batch_end(self, trainer, epoch, step, loss, batch_size):
        if self.every == "step":
            self.scheduler.step()

    def on_epoch_end(self, trainer, metrics):
        if self.every == "epoch":
            super().on_epoch_end(trainer, metrics)

    def observe(self, trainer, metrics, current):
        self.scheduler.step()

    def state_dict(self):
        return {"last_epoch": self.last_epoch, "scheduler": self.scheduler.state_dict()}

    def load_state_dict(self, state):
        self.last_epoch = int(state["last_epoch"])
        self.scheduler.load_state_dict(state["scheduler"])
