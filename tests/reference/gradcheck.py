"""Central differences against the tape: the gradient check of any op or layer written with Tensors.

``check_gradients(fn, args, wrt, rng)`` runs ``fn(*tensors)`` once recorded, backpropagates
loss = sum_k sum(output_k * R_k) (fixed random R_k for every floating output, nested tuples included, so
every output element is checked), and compares the gradient of each input in ``wrt`` and of each given
parameter with central differences of the same loss in float64.
"""

import numpy as np

import nntrain
from nntrain._tensor import Tensor

from .numgrad import numerical_grad, rel_error


def _float_outputs(out):
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in _float_outputs(o)]
    return [out] if isinstance(out, Tensor) and out.dtype.kind == "f" else []


def check_gradients(fn, args, rng, wrt=None, params=(), tol=1e-6, eps=1e-6):
    """fn: (*args) -> Tensor or (nested) tuple of Tensors. args: arrays and constants; those at the indices
    ``wrt`` (default: every float64 array) become Tensors that require a gradient. params: Parameters (float64)
    whose gradients are checked too. Returns the largest relative error."""
    if wrt is None:
        wrt = [i for i, a in enumerate(args) if isinstance(a, np.ndarray) and a.dtype == np.float64]
    inputs = list(args)
    for i in wrt:
        inputs[i] = Tensor(np.array(args[i], dtype=np.float64, order="C"), requires_grad=True)  # perturbed in place
    for p in params:
        p.grad = None
    outputs = _float_outputs(fn(*inputs))
    assert outputs, "fn returned no floating-point Tensor"
    weights = [rng.standard_normal(o.shape) for o in outputs]
    loss = sum((o * w).sum() for o, w in zip(outputs, weights))
    loss.backward()

    def value():
        with nntrain.no_grad():
            return sum(float(np.sum(o.data * w)) for o, w in zip(_float_outputs(fn(*inputs)), weights))

    checked = [(f"input {i}", inputs[i]) for i in wrt] + [(f"parameter {j}", p) for j, p in enumerate(params)]
    worst = 0.0
    for name, t in checked:
        analytic = np.zeros_like(t.data) if t.grad is None else t.grad
        err = rel_error(analytic, numerical_grad(value, t.data, eps))
        assert err < tol, f"{name} of shape {t.shape}: relative error {err:.3g} >= {tol}"
        worst = max(worst, err)
    return worst
