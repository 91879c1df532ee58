"""Learning-rate schedules, stepped once per epoch: lr = base_lr * factor(epoch).

StepLR (multiply by gamma every step_size epochs), ExponentialLR (by gamma every epoch),
CosineAnnealingLR (half a cosine from base_lr to eta_min over T_max epochs), LinearWarmup (ramp from
start_factor * base_lr to base_lr over warmup_epochs, then hand over to another schedule).
"""

import math


class LRScheduler:
    def __init__(self, optimizer):
        self.optimizer = optimizer
        self.base_lrs = [g["lr"] for g in optimizer.param_groups]
        self.last_epoch = 0
        self._apply()

    def factor(self, epoch):
        return 1.0

    def lr_at(self, base_lr, epoch):
        return base_lr * self.factor(epoch)

    def _apply(self):
        for g, base in zip(self.optimizer.param_groups, self.base_lrs):
            g["lr"] = self.lr_at(base, self.last_epoch)

    def step(self):
        self.last_epoch += 1
        self._apply()

    def get_last_lr(self):
        return [g["lr"] for g in self.optimizer.param_groups]

    def state_dict(self):
        return {"last_epoch": self.last_epoch, "base_lrs": list(self.base_lrs)}

    def load_state_dict(self, state):
        self.last_epoch = int(state["last_epoch"])
        self.base_lrs = list(state["base_lrs"])
        self._apply()


class StepLR(LRScheduler):
    def __init__(self, optimizer, step_size, gamma=0.1):
        if step_size < 1:
            raise ValueError(f"StepLR: step_size must be >= 1, got {step_size}")
        self.step_size, self.gamma = int(step_size), float(gamma)
        super().__init__(optimizer)

    def factor(self, epoch):
        return self.gamma ** (epoch // self.step_size)


class ExponentialLR(LRScheduler):
    def __init__(self, optimizer, gamma):
        if not gamma > 0:
            raise ValueError(f"ExponentialLR: gamma must be > 0, got {gamma}")
        self.gamma = float(gamma)
        super().__init__(optimizer)

    def factor(self, epoch):
        return self.gamma**epoch


class CosineAnnealingLR(LRScheduler):
    def __init__(self, optimizer, T_max, eta_min=0.0):
        if T_max < 1:
            raise ValueError(f"CosineAnnealingLR: T_max must be >= 1, got {T_max}")
        self.T_max, self.eta_min = int(T_max), float(eta_min)
        super().__init__(optimizer)

    def lr_at(self, base_lr, epoch):
        e = min(epoch, self.T_max)
        return self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * e / self.T_max)) / 2


class LinearWarmup(LRScheduler):
    """Linear ramp over ``warmup_epochs``, then ``after`` (another schedule, counted from the end of warm-up)."""

    def __init__(self, optimizer, warmup_epochs, start_factor=0.1, after=None):
        if warmup_epochs < 1:
            raise ValueError(f"LinearWarmup: warmup_epochs must be >= 1, got {warmup_epochs}")
        if not 0 < start_factor <= 1:
            raise ValueError(f"LinearWarmup: start_factor must be in (0, 1], got {start_factor}")
        self.warmup_epochs, self.start_factor, self.after = int(warmup_epochs), float(start_factor), after
        super().__init__(optimizer)
        if after is not None:
            self.base_lrs = list(after.base_lrs)
            self._apply()

    def lr_at(self, base_lr, epoch):
        if epoch < self.warmup_epochs:
            return base_lr * (self.start_factor + (1 - self.start_factor) * epoch / self.warmup_epochs)
        if self.after is None:
            return base_lr
        return self.after.lr_at(base_lr, epoch - self.warmup_epochs)

    def state_dict(self):
        state = super().state_dict()
        if self.after is not None:
            state["after"] = self.after.state_dict()
        return state

    def load_state_dict(self, state):
        if self.after is not None and "after" in state:
            self.after.last_epoch = int(state["after"]["last_epoch"])
            self.after.base_lrs = list(state["after"]["base_lrs"])
        super().load_state_dict(state)
