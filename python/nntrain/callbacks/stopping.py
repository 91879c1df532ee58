"""Ending training early: when a monitored value stops improving, or when it crosses a threshold."""

import math

import numpy as np

from .base import Best, Callback, EpochObserver, monitored, resolve_mode


class EarlyStopping(EpochObserver):
    """Stops when ``monitor`` has not improved by more than ``min_delta`` for ``patience`` epochs.

    ``mode`` 'min' or 'max' says which way is better ('auto': from the name). Epochs where the value is
    NaN (no validation data) are skipped. With ``restore_best_weights`` the model gets the weights of its
    best epoch back when training ends (stopped or not); they are part of ``state_dict``, so a resumed run
    restores them too.
    """

    def __init__(self, monitor="val_loss", *, mode="auto", patience=5, min_delta=0.0, restore_best_weights=False):
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 1:
            raise ValueError(f"EarlyStopping: patience must be an integer >= 1, got {patience!r}")
        if not isinstance(monitor, str):
            raise ValueError(f"EarlyStopping: monitor must be the name of an epoch metric, got {monitor!r}")
        self.monitor, self.patience = monitor, patience
        self.mode = resolve_mode(mode, monitor, "EarlyStopping")
        self.best = Best(self.mode, min_delta)
        self.restore_best_weights = bool(restore_best_weights)
        self.bad_epochs, self.best_epoch, self.stopped_epoch = 0, None, None
        self.best_weights = None

    def observe(self, trainer, metrics, current):
        value = monitored(metrics, self.monitor, "EarlyStopping")
        if math.isnan(value):
            return
        if self.best.improves(value):
            self.best.value, self.bad_epochs, self.best_epoch = value, 0, metrics.epoch
            if self.restore_best_weights:
                # Only the latest epoch's weights are in the model; an older best seen on catching up is lost.
                self.best_weights = ({k: v.copy() for k, v in trainer.model.state_dict().items()}
                                     if current else None)
            return
        self.bad_epochs += 1
        if self.bad_epochs >= self.patience:
            self.stopped_epoch = metrics.epoch
            trainer.stop_training = True

    def on_train_end(self, trainer, history):
        if self.best_weights is not None and history and history[-1].epoch != self.best_epoch:
            trainer.model.load_state_dict(self.best_weights)

    def state_dict(self):
        state = {"last_epoch": self.last_epoch, "best": self.best.value, "bad_epochs": self.bad_epochs,
                 "best_epoch": self.best_epoch, "stopped_epoch": self.stopped_epoch}
        if self.best_weights is not None:
            state["best_weights"] = dict(self.best_weights)
        return state

    def load_state_dict(self, state):
        self.last_epoch, self.best.value = int(state["last_epoch"]), float(state["best"])
        self.bad_epochs, self.best_epoch = int(state["bad_epochs"]), state["best_epoch"]
        self.stopped_epoch = state["stopped_epoch"]
        weights = state.get("best_weights")
        self.best_weights = None if weights is None else {k: np.asarray(v) for k, v in weights.items()}


class StopAtThreshold(Callback):
    """Stops as soon as ``monitor`` reaches ``threshold``: at or below it with ``mode='min'`` (the
    material's ``while loss > 0.01: train``), at or above with ``mode='max'``.

    ``every='step'`` checks after every step, and the one monitor there is ``loss``, that step's batch
    loss; ``every='epoch'`` checks each epoch's metrics (``loss`` there means ``train_loss``).
    ``stopped_epoch`` and ``stopped_step`` say when it fired.
    """

    def __init__(self, monitor="loss", threshold=0.01, mode="min", every="step"):
        if mode not in ("min", "max"):
            raise ValueError(f"StopAtThreshold: mode must be 'min' or 'max', got {mode!r}")
        if every not in ("step", "epoch"):
            raise ValueError(f"StopAtThreshold: every must be 'step' or 'epoch', got {every!r}")
        if every == "step" and monitor != "loss":
            raise ValueError(f"StopAtThreshold: after each step only 'loss' (the batch loss) is known, not "
                             f"{monitor!r}; use every='epoch' for epoch metrics")
        self.monitor, self.threshold, self.mode, self.every = monitor, float(threshold), mode, every
        self.stopped_epoch = self.stopped_step = None

    def _reached(self, value):
        return value <= self.threshold if self.mode == "min" else value >= self.threshold

    def on_batch_end(self, trainer, epoch, step, loss, batch_size):
        if self.every == "step" and self._reached(loss):
            self.stopped_epoch, self.stopped_step = epoch, step
            trainer.stop_training = True

    def on_epoch_end(self, trainer, metrics):
        if self.every == "epoch":
            value = monitored(metrics, "train_loss" if self.monitor == "loss" else self.monitor, "StopAtThreshold")
            if self._reached(value):
                self.stopped_epoch = metrics.epoch
                trainer.stop_training = True
