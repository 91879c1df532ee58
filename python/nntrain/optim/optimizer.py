"""Optimizer base: parameter groups, per-parameter state, one fused C++ update per group per step."""

import math
import numbers

import numpy as np

from .. import functional as F


def check_hyper(name, value, low=None, high=None, low_open=False, high_open=False):
    """Validates a hyper-parameter; the ValueError names it and its value."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if low is not None and (value <= low if low_open else value < low):
        raise ValueError(f"{name} must be {'>' if low_open else '>='} {low}, got {value}")
    if high is not None and (value >= high if high_open else value > high):
        raise ValueError(f"{name} must be {'<' if high_open else '<='} {high}, got {value}")
    return float(value)


class Optimizer:
    """Holds ``param_groups`` (lists of Parameters with their hyper-parameters) and ``state``.

    ``params`` is an iterable of Parameters, or of dicts ``{"params": [...], "lr": ...}`` for groups with
    their own hyper-parameters. Subclasses define ``defaults``, ``_validate(group)``, the names of their
    per-parameter state arrays (``state_names``) and ``_update(group, params, grads, state_lists, step,
    if_finite=False)``, which returns the gradients' norm when ``if_finite`` (updating only if it is finite).
    """

    state_names = ()

    def __init__(self, params, defaults):
        params = list(params)
        if not params:
            raise ValueError("optimizer got an empty parameter list")
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        self.defaults = dict(defaults)
        self.param_groups = []
        for g in groups:
            group = dict(self.defaults)
            group.update(g)
            group["params"] = list(g["params"])
            self._validate(group)
            self.param_groups.append(group)
        self.steps = [0] * len(self.param_groups)
        self.state = {}

    def _validate(self, group):
        check_hyper("lr", group["lr"], low=0.0)

    def zero_grad(self, set_to_none=True):
        """Forgets every gradient: ``.grad`` becomes None (the next backward writes fresh ones), or zeros."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    p.grad.fill(0)

    def _state_arrays(self, p):
        st = self.state.get(p)
        if st is None:
            st = {name: np.zeros_like(p.data) for name in self._needed_state(self._group_of(p))}
            self.state[p] = st
        return st

    def _needed_state(self, group):
        return self.state_names

    def _group_of(self, p):
        for g in self.param_groups:
            if any(q is p for q in g["params"]):
                return g
        raise KeyError("parameter not in this optimizer")

    def _work(self):
        """(group index, group, parameters with a gradient, their state lists) of each group that has any."""
        # (once per step, inside a training step whose kernels have evicted Python's objects from the caches:
        # each attribute and call here costs several times what it costs in a loop of its own)
        work, state = [], self.state
        for gi, group in enumerate(self.param_groups):
            params = [p for p in group["params"] if p.grad is not None and p._requires_grad]
            if params:
                states = [state.get(p) or self._state_arrays(p) for p in params]
                work.append((gi, group, params, {name: [st[name] for st in states] for name in self._needed_state(group)}))
        return work

    def _apply(self, gi, group, params, state_lists, if_finite=False):
        """One group's update (with if_finite: only when the gradients' norm is finite; returns the norm)."""
        result = self._update(group, [p.data for p in params], [p.grad for p in params], state_lists,
                              self.steps[gi] + 1, if_finite=if_finite)
        if not if_finite or math.isfinite(result):
            self.steps[gi] += 1
            for p in params:  # changed in place: a backward through a graph that saved them must refuse to run
                p._version[0] += 1
        return result

    def step(self):
        """One update of every parameter against its gradient (parameters without one, unused by the last
        backward, are left as they are, as in PyTorch)."""
        for gi, group, params, state_lists in self._work():
            self._apply(gi, group, params, state_lists)

    def step_if_finite(self):
        """The global norm of the gradients this step would apply (``F.grad_norm``'s value), and the step
        itself only when that norm is finite: a NaN or Inf gradient leaves every parameter, state array and
        step count as it was. With one parameter group the norm comes from the update's own pass (each
        thread sums the squares of its share of the gradients, then updates that share while it is still in
        its cache); with several, a pass of its own comes first."""
        work = self._work()
        if len(work) == 1:
            return self._apply(*work[0], if_finite=True)
        norm = F.grad_norm([p.grad for _, _, params, _ in work for p in params])
        if math.isfinite(norm):
            for gi, group, params, state_lists in work:
                self._apply(gi, group, params, state_lists)
        return norm

    # ---- resume ----------------------------------------------------------------------------------
    def state_dict(self):
        """Hyper-parameters, step counts and state arrays, keyed by parameter index (as in PyTorch)."""
        index = {}
        groups = []
        for gi, group in enumerate(self.param_groups):
            ids = []
            for p in group["params"]:
                index[id(p)] = len(index)
                ids.append(index[id(p)])
            groups.append({**{k: v for k, v in group.items() if k != "params"}, "params": ids, "step": self.steps[gi]})
        state = {}
        for group in self.param_groups:
            for p in group["params"]:
                if p in self.state:
                    state[index[id(p)]] = {k: v.copy() for k, v in self.state[p].items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups):
            raise ValueError(f"optimizer state has {len(groups)} parameter groups, this optimizer has "
                             f"{len(self.param_groups)}")
        params = [p for g in self.param_groups for p in g["params"]]
        for gi, (saved, group) in enumerate(zip(groups, self.param_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(f"optimizer state group {gi} has {len(saved['params'])} parameters, this "
                                 f"optimizer has {len(group['params'])}")
        new_state = {}
        for key, st in state_dict["state"].items():
            i = int(key)
            if not 0 <= i < len(params):
                raise ValueError(f"optimizer state names parameter {i}, but there are {len(params)}")
            p = params[i]
            for name, arr in st.items():
                if np.shape(arr) != p.data.shape:
                    raise ValueError(f"optimizer state {i}.{name}: expected shape {p.data.shape}, got {np.shape(arr)}")
            new_state[p] = {name: np.array(arr, dtype=p.data.dtype, copy=True) for name, arr in st.items()}
        for gi, (saved, group) in enumerate(zip(groups, self.param_groups)):
            for k, v in saved.items():
                if k not in ("params", "step"):
                    group[k] = v
            self.steps[gi] = int(saved.get("step", 0))
        self.state = new_state

    def __repr__(self):
        hyper = ", ".join(f"{k}={v}" for k, v in self.defaults.items())
        return f"{type(self).__name__}({hyper})"
