"""Optimisers (one fused C++ update per step), learning-rate schedules and gradient clipping."""

from . import lr_scheduler
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .clip import clip_grad_norm_, grad_norm
from .optimizer import Optimizer
from .rmsprop import RMSProp, RMSprop
from .sgd import SGD

__all__ = ["SGD", "Adagrad", "RMSprop", "RMSProp", "Adam", "AdamW", "Optimizer", "clip_grad_norm_", "grad_norm",
           "lr_scheduler"]
