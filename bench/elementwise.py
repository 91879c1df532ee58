"""Activations, softmax and the fused softmax-cross-entropy in GB/s (bytes each must move at least)
against the same formulas in NumPy, on the cnn preset's largest activation (64x32x28x28 floats)."""

import numpy as np

from nntrain import functional as F

from .timing import best_seconds

SHAPE = (64, 32, 28, 28)


def _np_gelu(x):
    from math import sqrt

    # NumPy has no erf; the tanh form is the closest NumPy-only formula (nntrain computes the erf form)
    return 0.5 * x * (1 + np.tanh(np.float32(sqrt(2 / np.pi)) * (x + np.float32(0.044715) * x * x * x)))


def _np_softmax(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _np_xent(logits, labels):
    """Loss and its gradient, as the fused kernel computes both."""
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    s = e.sum(axis=1, keepdims=True)
    rows = np.arange(len(labels))
    loss = -(z[rows, labels] - np.log(s[:, 0])).mean()
    grad = e / s
    grad[rows, labels] -= 1
    return loss, grad / len(labels)


def cases(rng):
    x = rng.standard_normal(SHAPE).astype(np.float32)
    g = rng.standard_normal(SHAPE).astype(np.float32)
    nbytes = x.nbytes
    logits = rng.standard_normal((4096, 1000)).astype(np.float32)
    labels = rng.integers(0, 1000, 4096)
    a = np.float32(0.01)
    # (name, ours, numpy, bytes moved at the least)
    return [
        ("relu forward", lambda: F.relu(x), lambda: np.maximum(x, 0), 2 * nbytes),
        ("relu backward", lambda: F.relu_backward(g, x), lambda: np.where(x > 0, g, 0), 3 * nbytes),
        ("leaky_relu forward", lambda: F.leaky_relu(x), lambda: np.where(x > 0, x, a * x), 2 * nbytes),
        ("elu forward", lambda: F.elu(x), lambda: np.where(x > 0, x, np.expm1(x)), 2 * nbytes),
        ("sigmoid forward", lambda: F.sigmoid(x), lambda: 1 / (1 + np.exp(-x)), 2 * nbytes),
        ("tanh forward", lambda: F.tanh(x), lambda: np.tanh(x), 2 * nbytes),
        ("gelu forward", lambda: F.gelu(x), lambda: _np_gelu(x), 2 * nbytes),
        ("softmax 4096x1000", lambda: F.softmax(logits), lambda: _np_softmax(logits), 2 * logits.nbytes),
        ("cross-entropy 4096x1000 fwd+bwd",
         lambda: F.cross_entropy_backward(F.cross_entropy(logits, labels, return_probs=True)[1], labels),
         lambda: _np_xent(logits, labels), 2 * logits.nbytes),
    ]


def run(threads, quick=False):
    rng = np.random.default_rng(0)
    rows = []
    for name, ours, theirs, nbytes in cases(rng):
        t_ours, t_np = best_seconds(ours), best_seconds(theirs)
        rows.append({"op": name, "nntrain_gbs": nbytes / t_ours / 1e9, "numpy_gbs": nbytes / t_np / 1e9})
    return rows
