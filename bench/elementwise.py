"""Activations, softmax and the fused softmax-cross-entropy in GB/s (bytes each must move at least)
against the same formulas in NumPy and, when installed, JAX (each op `jax.jit`-compiled, inputs already
on the device), on the cnn preset's largest activation (64x32x28x28 floats). Every peer's result is
checked against nntrain's before anything is timed. The libraries are timed in interleaved rounds, the best
of each kept."""

import numpy as np

from nntrain import functional as F

from .peers import jax_or_none
from .timing import interleaved_best_seconds

SHAPE = (64, 32, 28, 28)
ROUNDS = 3  # passes over nntrain and its peers, interleaved; the best of each is kept


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


def jax_cases(jax, rng):
    """{op name: (jitted function of device arrays, its arguments)} for the ops JAX has a natural form of."""
    import jax.numpy as jnp
    import optax

    rng = np.random.default_rng(0)  # the same draws as cases()
    x = rng.standard_normal(SHAPE).astype(np.float32)
    g = rng.standard_normal(SHAPE).astype(np.float32)
    logits = rng.standard_normal((4096, 1000)).astype(np.float32)
    labels = rng.integers(0, 1000, 4096)
    jx, jg, jl, jy = (jax.device_put(v) for v in (x, g, logits, labels.astype(np.int32)))

    def xent(z, y):
        return jax.value_and_grad(lambda v: optax.softmax_cross_entropy_with_integer_labels(v, y).mean())(z)

    return {
        "relu forward": (jax.jit(jax.nn.relu), (jx,)),
        "relu backward": (jax.jit(lambda d, v: jnp.where(v > 0, d, 0)), (jg, jx)),
        "leaky_relu forward": (jax.jit(lambda v: jax.nn.leaky_relu(v, 0.01)), (jx,)),
        "elu forward": (jax.jit(jax.nn.elu), (jx,)),
        "sigmoid forward": (jax.jit(jax.nn.sigmoid), (jx,)),
        "tanh forward": (jax.jit(jnp.tanh), (jx,)),
        "gelu forward": (jax.jit(lambda v: jax.nn.gelu(v, approximate=False)), (jx,)),
        "softmax 4096x1000": (jax.jit(lambda v: jax.nn.softmax(v, axis=1)), (jl,)),
        "cross-entropy 4096x1000 fwd+bwd": (jax.jit(xent), (jl, jy)),
    }


def _output(result):
    """The array to compare: the gradient of a (loss, gradient) pair, else the result itself."""
    return np.asarray(result[1] if isinstance(result, tuple) else result)


def run(threads, quick=False):
    rng = np.random.default_rng(0)
    jax = jax_or_none()
    peers = jax_cases(jax, rng) if jax is not None else {}
    rows = []
    for name, ours, theirs, nbytes in cases(np.random.default_rng(0)):
        fns = {"nntrain": ours, "numpy": theirs}
        if name in peers:
            fn, args = peers[name]
            np.testing.assert_allclose(_output(fn(*args)), _output(ours()), rtol=2e-4, atol=2e-6, err_msg=f"jax {name}")
            fns["jax"] = lambda fn=fn, args=args: jax.block_until_ready(fn(*args))
        # interleaved rounds, as the GEMM table's: a slow spell of the host falls on every library alike
        seconds = interleaved_best_seconds(fns, ROUNDS)
        rows.append({"op": name, **{f"{library}_gbs": nbytes / s / 1e9 for library, s in seconds.items()}})
    return rows
