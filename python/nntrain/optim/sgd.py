"""Stochastic gradient descent with optional momentum (heavy-ball or Nesterov) and weight decay.

Full-batch gradient descent and mini-batch SGD are this same optimiser fed different batches.
"""

from .. import functional as F
from .optimizer import Optimizer, check_hyper


class SGD(Optimizer):
    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov))

    def _validate(self, g):
        super()._validate(g)
        check_hyper("momentum", g["momentum"], low=0.0)
        check_hyper("dampening", g["dampening"])
        check_hyper("weight_decay", g["weight_decay"], low=0.0)
        if g["nesterov"] and (g["momentum"] <= 0 or g["dampening"] != 0):
            raise ValueError("nesterov momentum requires momentum > 0 and dampening = 0")

    def _needed_state(self, group):
        return ("momentum_buffer",) if group["momentum"] > 0 else ()

    def _update(self, g, params, grads, state, step, if_finite=False):
        return F.sgd_update(params, grads, state.get("momentum_buffer"), lr=g["lr"], momentum=g["momentum"],
                            dampening=g["dampening"], weight_decay=g["weight_decay"], nesterov=g["nesterov"],
                            first_step=step == 1, if_finite=if_finite)
