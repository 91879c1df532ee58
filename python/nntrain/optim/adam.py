"""Adam (moment estimates with bias correction) and AdamW (Adam with decoupled weight decay)."""

from .. import functional as F
from .optimizer import Optimizer, check_hyper


class Adam(Optimizer):
    state_names = ("exp_avg", "exp_avg_sq")
    decoupled = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay))

    def _validate(self, g):
        super()._validate(g)
        if len(g["betas"]) != 2:
            raise ValueError(f"betas must be a pair, got {g['betas']!r}")
        check_hyper("betas[0]", g["betas"][0], low=0.0, high=1.0, high_open=True)
        check_hyper("betas[1]", g["betas"][1], low=0.0, high=1.0, high_open=True)
        check_hyper("eps", g["eps"], low=0.0, low_open=True)
        check_hyper("weight_decay", g["weight_decay"], low=0.0)

    def _update(self, g, params, grads, state, step, if_finite=False):
        return F.adam_update(params, grads, state["exp_avg"], state["exp_avg_sq"], lr=g["lr"], beta1=g["betas"][0],
                             beta2=g["betas"][1], eps=g["eps"], weight_decay=g["weight_decay"], step=step,
                             decoupled=self.decoupled, if_finite=if_finite)


class AdamW(Adam):
    decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
