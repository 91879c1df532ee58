"""The mlp and cnn presets written in JAX for `python -m bench`: pure functions over a parameter pytree,
one `jax.jit` training step with optax Adam (buffers donated, so the update is in place), as a JAX user
would write them. Imported only where JAX is installed and only in a child process (see peers.JaxPeer):
XLA fixes its thread pool when it starts, so each thread count gets a process of its own, pinned to that
many cores, which times a pass of steps each time the parent asks, between the other libraries' passes."""

import json
import os
import sys
import time

import numpy as np

from nntrain import presets


def _he(key, shape, fan_in):
    import jax

    bound = np.sqrt(6.0 / fan_in)  # torch.nn's default scale, close enough: the step's cost does not depend on it
    return jax.random.uniform(key, shape, minval=-bound, maxval=bound)


def init(preset, input_shape, classes, seed=0):
    """(params, batch-norm state) of the preset, the same layers as bench.peers.torch_preset."""
    import jax
    import jax.numpy as jnp

    c, h, w = input_shape
    keys = iter(jax.random.split(jax.random.PRNGKey(seed), 3 + sum(map(len, presets.CNN_STAGES))))
    if preset == "mlp":
        sizes = [c * h * w, 256, 128, classes]
        params = [{"w": _he(next(keys), (o, i), i), "b": jnp.zeros(o)} for i, o in zip(sizes, sizes[1:])]
        return params, {}
    if preset == "cnn":
        convs, bns = [], []
        for stage in presets.CNN_STAGES:
            for cout in stage:
                convs.append(_he(next(keys), (cout, c, 3, 3), c * 9))
                bns.append({"g": jnp.ones(cout), "b": jnp.zeros(cout)})
                c = cout
            h, w = presets.pooled_size(h, w)
        hidden = presets.CNN_HIDDEN
        params = {"convs": convs, "bns": bns,
                  "fc1": {"w": _he(next(keys), (hidden, c * h * w), c * h * w), "b": jnp.zeros(hidden)},
                  "fc2": {"w": _he(next(keys), (classes, hidden), hidden), "b": jnp.zeros(classes)}}
        state = [{"mean": jnp.zeros(bn["g"].shape[0]), "var": jnp.ones(bn["g"].shape[0])} for bn in bns]
        return params, state
    raise ValueError(f"no JAX twin for preset {preset!r}")


def _batch_norm_relu(x, p, s):
    """BatchNorm2d in training mode (batch statistics, running averages moved by 0.1), then ReLU."""
    import jax
    import jax.numpy as jnp

    mean = x.mean(axis=(0, 2, 3))
    var = x.var(axis=(0, 2, 3))
    n = x.shape[0] * x.shape[2] * x.shape[3]
    y = (x - mean[None, :, None, None]) * jax.lax.rsqrt(var + 1e-5)[None, :, None, None]
    y = jnp.maximum(y * p["g"][None, :, None, None] + p["b"][None, :, None, None], 0)
    state = {"mean": 0.9 * s["mean"] + 0.1 * mean, "var": 0.9 * s["var"] + 0.1 * var * n / (n - 1)}
    return y, state


def forward(preset, params, state, x):
    import jax
    import jax.numpy as jnp

    if preset == "mlp":
        h = x.reshape(x.shape[0], -1)
        for i, layer in enumerate(params):
            h = h @ layer["w"].T + layer["b"]
            if i < len(params) - 1:
                h = jnp.maximum(h, 0)
        return h, state
    conv = lambda v, w: jax.lax.conv_general_dilated(v, w, (1, 1), ((1, 1), (1, 1)),
                                                     dimension_numbers=("NCHW", "OIHW", "NCHW"))
    pool = lambda v: jax.lax.reduce_window(v, -jnp.inf, jax.lax.max, (1, 1, 2, 2), (1, 1, 2, 2), "VALID")
    h, new_state, layer = x, [], 0
    for stage in presets.CNN_STAGES:
        for _ in stage:
            h, s = _batch_norm_relu(conv(h, params["convs"][layer]), params["bns"][layer], state[layer])
            new_state.append(s)
            layer += 1
        if presets.pooled_size(h.shape[2], h.shape[3]) != (h.shape[2], h.shape[3]):
            h = pool(h)
    h = h.reshape(h.shape[0], -1)
    h = jnp.maximum(h @ params["fc1"]["w"].T + params["fc1"]["b"], 0)
    return h @ params["fc2"]["w"].T + params["fc2"]["b"], new_state


def make_step(preset, lr=1e-3):
    """(jitted step(params, state, opt_state, x, y) -> (params, state, opt_state, loss), optimiser)."""
    import jax
    import optax

    opt = optax.adam(lr)

    def loss_fn(params, state, x, y):
        logits, state = forward(preset, params, state, x)
        return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean(), state

    def step(params, state, opt_state, x, y):
        (loss, state), grads = jax.value_and_grad(loss_fn, has_aux=True)(params, state, x, y)
        updates, opt_state = opt.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), state, opt_state, loss

    return jax.jit(step, donate_argnums=(0, 1, 2)), opt


def trainer(preset, input_shape, classes):
    """A function of batches [(x, y)] that trains the twin of `preset` on them, one jitted step each, and
    returns the samples/s; the model and optimiser state carry over from call to call."""
    params, state = init(preset, input_shape, classes)
    step, opt = make_step(preset)
    opt_state = opt.init(params)

    def train(batches):
        nonlocal params, state, opt_state
        start = time.perf_counter()
        for x, y in batches:
            params, state, opt_state, loss = step(params, state, opt_state, x, y)
            loss.block_until_ready()  # one step at a time, as the other libraries run
        return len(batches) * batches[0][0].shape[0] / (time.perf_counter() - start)

    return train


def _child():
    """python -m bench.jax_models '{"preset": ..., "threads": ..., "steps": ..., "warmup": ...}': runs the
    warm-up steps (compilation among them), prints {"ready": true}, then for each line read from stdin
    times `steps` steps and prints {"rate": samples/s}, until stdin closes."""
    args = json.loads(sys.argv[1])
    # before JAX starts: XLA sizes its thread pool from the cores this process may run on
    os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[: args["threads"]])
    from .training import _batches

    train = trainer(args["preset"], tuple(args["input"]), args["classes"])
    train(_batches(args["warmup"], seed=1))
    batches = _batches(args["steps"])
    print(json.dumps({"ready": True}), flush=True)
    for _ in sys.stdin:
        print(json.dumps({"rate": train(batches)}), flush=True)


if __name__ == "__main__":
    _child()
