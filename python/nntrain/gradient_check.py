"""Numerical gradient check: the analytic gradients of backward against central differences.

For a model, a batch and a loss, each parameter's analytic gradient (one forward + backward) is compared
with (L(w + eps) - L(w - eps)) / (2 eps) in float64 on every element (or a seeded sample of
``max_checks`` elements of large parameters). The error of an element is |a - n| / max(1, |a|, |n|):
relative for gradients of order one and above, absolute below, so rounding noise in tiny gradients does
not raise false alarms while a wrong gradient of any useful size does.
"""

import copy
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np

from .autograd.grad_mode import no_grad
from ._tensor import Tensor


@dataclass
class GradcheckRow:
    layer: str
    param: str
    max_error: float
    checked: int
    size: int


@dataclass
class GradcheckResult:
    rows: list = field(default_factory=list)
    tolerance: float = 1e-6

    @property
    def max_error(self):
        return max((r.max_error for r in self.rows), default=0.0)

    @property
    def passed(self):
        return self.max_error < self.tolerance

    def per_layer(self):
        """Largest error per layer (module path)."""
        out = OrderedDict()
        for r in self.rows:
            out[r.layer] = max(out.get(r.layer, 0.0), r.max_error)
        return out

    def __str__(self):
        lines = [f"{'parameter':<32} {'checked':>9} {'max rel. error':>15}"]
        lines += [f"{r.param:<32} {f'{r.checked}/{r.size}':>9} {r.max_error:>15.3e}" for r in self.rows]
        lines.append(f"{'PASSED' if self.passed else 'FAILED'}: largest error {self.max_error:.3e} "
                     f"(tolerance {self.tolerance:g})")
        return "\n".join(lines)


def gradcheck(model, x, y, loss, eps=1e-6, tol=1e-6, max_checks=64, seed=0):
    """Checks every parameter's gradient of ``loss(model(x), y)``; returns a GradcheckResult.

    The model is copied and converted to float64 first; the original is left untouched. Dropout layers
    draw a new mask per forward, so check models with dropout in eval mode (``model.eval()``).
    """
    model = copy.deepcopy(model).to(np.float64)
    x = np.asarray(x, dtype=np.float64, order="C")
    if np.asarray(y).dtype.kind == "f":
        y = np.asarray(y, dtype=np.float64, order="C")
    rng = np.random.default_rng(seed)

    def loss_value():
        with no_grad():
            return float(loss(model(Tensor(x)), y))

    model.zero_grad()
    loss(model(Tensor(x)), y).backward()
    result = GradcheckResult(tolerance=tol)
    for name, p in model.named_parameters():
        analytic = (p.grad if p.grad is not None else np.zeros_like(p.data)).copy().reshape(-1)
        flat = p.data.reshape(-1)
        idx = np.arange(flat.size) if flat.size <= max_checks else np.sort(
            rng.choice(flat.size, size=max_checks, replace=False))
        worst = 0.0
        for i in idx:
            old = flat[i]
            flat[i] = old + eps
            lp = loss_value()
            flat[i] = old - eps
            lm = loss_value()
            flat[i] = old
            numeric = (lp - lm) / (2 * eps)
            err = abs(analytic[i] - numeric) / max(1.0, abs(analytic[i]), abs(numeric))
            worst = max(worst, err if np.isfinite(err) else np.inf)
        layer = name.rsplit(".", 1)[0] if "." in name else ""
        result.rows.append(GradcheckRow(layer, name, worst, len(idx), flat.size))
    return result
