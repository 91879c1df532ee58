"""RMSProp: divide the gradient by a running root-mean-square of recent gradients."""

from .. import functional as F
from .optimizer import Optimizer, check_hyper


class RMSprop(Optimizer):
    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                                      centered=centered))

    def _validate(self, g):
        super()._validate(g)
        check_hyper("alpha", g["alpha"], low=0.0)
        check_hyper("eps", g["eps"], low=0.0)
        check_hyper("weight_decay", g["weight_decay"], low=0.0)
        check_hyper("momentum", g["momentum"], low=0.0)

    def _needed_state(self, group):
        names = ("square_avg",)
        if group["momentum"] > 0:
            names += ("momentum_buffer",)
        if group["centered"]:
            names += ("grad_avg",)
        return names

    def _update(self, g, params, grads, state, step, if_finite=False):
        return F.rmsprop_update(params, grads, state["square_avg"], state.get("momentum_buffer"),
                                state.get("grad_avg"), lr=g["lr"], alpha=g["alpha"], eps=g["eps"],
                                weight_decay=g["weight_decay"], momentum=g["momentum"], centered=g["centered"],
                                if_finite=if_finite)


RMSProp = RMSprop
