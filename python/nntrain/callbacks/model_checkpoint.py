"""Saving the model as training goes: every epoch, or only when a monitored value improves."""

import math
import os

from .. import checkpoint as ckpt
from .base import Best, EpochObserver, monitored, resolve_mode


class ModelCheckpoint(EpochObserver):
    """Writes the model after each epoch (atomically, through ``nntrain.checkpoint``).

    ``path`` may name the epoch and any epoch metric: ``"ckpt/model-{epoch:03d}-{val_loss:.4f}.safetensors"``.
    With ``save_best_only`` it writes only when ``monitor`` improves on the best so far (by more than
    ``min_delta``; epochs where it is NaN write nothing). ``save_weights_only`` (the default) writes a
    weights file (``nntrain.checkpoint.save_weights``, loadable by PyTorch); otherwise a checkpoint with
    the optimiser, the schedule and the trainer's state (``save_checkpoint``). ``last_path`` is the file
    written last.
    """

    def __init__(self, path, monitor="val_loss", *, mode="auto", save_best_only=False, save_weights_only=True,
                 min_delta=0.0):
        self.path, self.monitor = os.fspath(path), monitor
        self.save_best_only, self.save_weights_only = bool(save_best_only), bool(save_weights_only)
        self.best = Best(resolve_mode(mode, monitor, "ModelCheckpoint"), min_delta)
        self.best_epoch = self.last_path = None

    def observe(self, trainer, metrics, current):
        if self.save_best_only:
            value = monitored(metrics, self.monitor, "ModelCheckpoint")
            if math.isnan(value) or not self.best.improves(value):
                return
            self.best.value, self.best_epoch = value, metrics.epoch
        if current:  # catching up on an older epoch: its weights are gone, only the best value is learnt
            self.save(trainer, metrics)

    def save(self, trainer, metrics):
        try:
            path = self.path.format(**metrics.as_dict())
        except (KeyError, IndexError, ValueError) as e:
            raise ValueError(f"ModelCheckpoint: cannot fill in the path {self.path!r} ({e!r}); it may name the "
                             f"epoch metrics {', '.join(metrics.as_dict())}") from None
        directory = os.path.dirname(path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        if self.save_weights_only:
            ckpt.save_weights(trainer.model, path)
        else:
            ckpt.save_checkpoint(path, trainer.model, trainer.optimizer, trainer.scheduler,
                                 trainer=trainer.state_dict())
        self.last_path = path

    def state_dict(self):
        return {"last_epoch": self.last_epoch, "best": self.best.value, "best_epoch": self.best_epoch,
                "last_path": self.last_path}

    def load_state_dict(self, state):
        self.last_epoch, self.best.value = int(state["last_epoch"]), float(state["best"])
        self.best_epoch, self.last_path = state["best_epoch"], state["last_path"]
