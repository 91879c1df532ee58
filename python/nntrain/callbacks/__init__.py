"""Callbacks: small objects the Trainer calls at the start and end of training, epochs and steps.

    EarlyStopping       stop when a monitored value stops improving (optionally restoring the best weights)
    StopAtThreshold     stop as soon as a value crosses a threshold, checked after every step if asked
    ModelCheckpoint     write the model every epoch, or when a monitored value improves
    ReduceLROnPlateau   cut the learning rate when a monitored value stalls
    LRScheduler         step a learning-rate schedule per epoch or per step
    GradNormLogger      per-layer gradient and weight norms to a CSV and a plot; warns when they vanish
                        or explode (GradientWarning)

``nntrain.tensorboard.TensorBoard`` is one too. Each keeps its state in ``state_dict()``, which the
trainer's checkpoint carries, so a resumed run continues exactly.
"""

from .base import Callback, EpochObserver
from .grad_norms import GradientWarning, GradNormLogger
from .lr import LRScheduler, ReduceLROnPlateau
from .model_checkpoint import ModelCheckpoint
from .stopping import EarlyStopping, StopAtThreshold

__all__ = ["Callback", "EarlyStopping", "EpochObserver", "GradNormLogger", "GradientWarning", "LRScheduler",
           "ModelCheckpoint", "ReduceLROnPlateau", "StopAtThreshold"]
