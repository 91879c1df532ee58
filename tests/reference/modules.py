"""Checks a Module's backward (input gradient and parameter gradients) against central differences."""

import numpy as np

from .numgrad import numerical_grad, rel_error


def check_module_backward(module, x, rng, tol=1e-6):
    """Loss = sum(module(x) * R) for a fixed random R; compares d/dx and every d/dparam in float64."""
    module.to(np.float64)
    x = np.ascontiguousarray(x, dtype=np.float64)
    R = rng.standard_normal(module(x).shape)

    def loss():
        return float(np.sum(module(x) * R))

    module.zero_grad()
    module(x)
    dx = module.backward(R.copy())
    errors = {"input": rel_error(dx, numerical_grad(loss, x))}
    for name, p in module.named_parameters():
        analytic = p.grad.copy()
        errors[name] = rel_error(analytic, numerical_grad(loss, p.data))
    bad = {k: v for k, v in errors.items() if not v < tol}
    assert not bad, f"{type(module).__name__}: gradient errors above {tol}: {bad}"
    return errors
