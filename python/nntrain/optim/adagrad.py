"""Adagrad: per-coordinate learning rates lr / sqrt(sum of past squared gradients)."""

from .. import functional as F
from .optimizer import Optimizer, check_hyper


class Adagrad(Optimizer):
    state_names = ("sum",)

    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10):
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, eps=eps))

    def _validate(self, g):
        super()._validate(g)
        check_hyper("lr_decay", g["lr_decay"], low=0.0)
        check_hyper("weight_decay", g["weight_decay"], low=0.0)
        check_hyper("initial_accumulator_value", g["initial_accumulator_value"], low=0.0)
        check_hyper("eps", g["eps"], low=0.0)

    def _state_arrays(self, p):
        fresh = p not in self.state
        st = super()._state_arrays(p)
        if fresh:
            st["sum"].fill(self._group_of(p)["initial_accumulator_value"])
        return st

    def _update(self, g, params, grads, state, step, if_finite=False):
        return F.adagrad_update(params, grads, state["sum"], lr=g["lr"], lr_decay=g["lr_decay"],
                                weight_decay=g["weight_decay"], eps=g["eps"], step=step, if_finite=if_finite)
