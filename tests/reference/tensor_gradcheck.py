"""Gradient check of a function of Tensors: the tape's gradients against float64 central differences.

``gradcheck(fn, a, b, ...)`` makes each float64 array a leaf Tensor that requires a gradient, runs
``out = fn(*leaves)`` (a Tensor or a tuple of Tensors), and back-propagates a random upstream gradient
``u`` (random, not ones, so that a backward that permutes or sums the wrong elements cannot pass). It
compares each leaf's ``.grad`` with the central difference of ``sum(u * fn(...))`` perturbing that
input element by element. The arrays are perturbed in place, element by element through their own
strides, so a non-contiguous input (a transposed or sliced view) is checked as it is given.
"""

import numpy as np

import nntrain
from nntrain import Tensor

from .numgrad import rel_error


def _outputs(out):
    outs = out if isinstance(out, (tuple, list)) else (out,)
    for o in outs:
        if not isinstance(o, Tensor):
            raise TypeError(f"gradcheck: the function returned a {type(o).__name__}, not a Tensor")
    return outs


def _weighted_sum(outs, upstream):
    return sum(float(np.sum(np.asarray(o.data, np.float64) * u)) for o, u in zip(outs, upstream) if u is not None)


def gradcheck(fn, *inputs, eps=1e-6, tol=1e-6, seed=0, check_none=()):
    """Asserts that the tape's gradient of every float64 input of ``fn`` matches central differences.

    inputs: float64 arrays (made leaves that require a gradient) or anything else (passed as is:
    integer indices, Tensors that require no gradient). check_none: positions of float inputs whose
    ``.grad`` must stay None (they do not influence the output). Returns the leaves, for further checks.
    """
    rng = np.random.default_rng(seed)
    leaves = [Tensor(a, requires_grad=True) if isinstance(a, np.ndarray) and a.dtype == np.float64 else a
              for a in inputs]
    outs = _outputs(fn(*leaves))
    upstream = [rng.standard_normal(o.shape) if o.dtype.kind == "f" and o.requires_grad else None for o in outs]
    assert any(u is not None for u in upstream), "gradcheck: no output requires a gradient"
    for o, u in zip(outs, upstream):
        assert u is None or o.dtype == np.float64, f"gradcheck: an output is {o.dtype}, expected float64"
    roots = [(o, u) for o, u in zip(outs, upstream) if u is not None]
    if len(roots) == 1:
        roots[0][0].backward(roots[0][1])
    else:  # several outputs: one backward of the weighted sum, which the tape splits back
        total = sum(((o * Tensor(u)).sum() for o, u in roots), Tensor(np.zeros((), np.float64)))
        total.backward()

    def loss():
        with nntrain.no_grad():
            return _weighted_sum(_outputs(fn(*leaves)), upstream)

    for position, leaf in enumerate(leaves):
        if not isinstance(leaf, Tensor) or not leaf.requires_grad:
            continue
        if position in check_none:
            assert leaf.grad is None, f"input {position}: expected no gradient, got one"
            continue
        assert leaf.grad is not None, f"input {position}: backward left .grad None"
        assert leaf.grad.shape == leaf.shape, f"input {position}: grad shape {leaf.grad.shape} != {leaf.shape}"
        numeric = numerical_grad_strided(loss, leaf.data, eps)
        err = rel_error(leaf.grad, numeric)
        assert err < tol, f"input {position} (shape {leaf.shape}): relative error {err:.3g} >= {tol}"
    return leaves


def numerical_grad_strided(f, x, eps=1e-6):
    """Central differences of the scalar f() w.r.t. every element of x, perturbed in place through x's own
    strides (a view is changed where it points, not in a copy)."""
    g = np.zeros(x.shape, dtype=np.float64)
    for index in np.ndindex(*x.shape):
        old = x[index]
        x[index] = old + eps
        fp = f()
        x[index] = old - eps
        fm = f()
        x[index] = old
        g[index] = (fp - fm) / (2 * eps)
    return g
