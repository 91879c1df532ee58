import numpy as np


def numerical_grad(f, x, eps=1e-6):
    """Central-difference gradient of the scalar function f at x (float64), perturbing x in place."""
    g = np.zeros_like(x, dtype=np.float64)
    flat = x.reshape(-1)
    gflat = g.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        fp = f()
        flat[i] = old - eps
        fm = f()
        flat[i] = old
        gflat[i] = (fp - fm) / (2 * eps)
    return g


def rel_error(a, b):
    """Largest elementwise error relative to the larger magnitude (floored at 1 for tiny values)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(1.0, np.maximum(np.abs(a), np.abs(b)))))


def check_backward(loss_of, inputs, analytic, tol=1e-6, eps=1e-6):
    """Compare analytic gradients with central differences of ``loss_of()`` for each named float64 input.

    loss_of: () -> float, reading the arrays in ``inputs`` (perturbed in place).
    analytic: dict name -> gradient array.
    """
    for name, x in inputs.items():
        num = numerical_grad(loss_of, x, eps)
        err = rel_error(analytic[name], num)
        assert err < tol, f"{name}: relative error {err:.3g} >= {tol}"
