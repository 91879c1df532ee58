"""Optimiser classes: first steps against NumPy implementations of the published rules; descent; resume."""

import numpy as np
import pytest

from nntrain import nn, optim
from nntrain.nn import Parameter


def params_and_grads(rng, dtype=np.float64):
    shapes = [(3, 4), (4,), (1,)]
    params = [Parameter(rng.standard_normal(s).astype(dtype)) for s in shapes]
    grads = [[rng.standard_normal(s).astype(dtype) for s in shapes] for _ in range(3)]
    return params, grads


def run(opt, params, grads):
    for step_grads in grads:
        for p, g in zip(params, step_grads):
            p.grad = np.array(g, dtype=p.dtype)
        opt.step()
    return [p.data.copy() for p in params]


def numpy_sgd(w, gs, lr, momentum=0.0, dampening=0.0, wd=0.0, nesterov=False):
    buf = None
    for g in gs:
        g = g + wd * w
        if momentum:
            buf = g.copy() if buf is None else momentum * buf + (1 - dampening) * g
            g = g + momentum * buf if nesterov else buf
        w = w - lr * g
    return w


def numpy_adam(w, gs, lr, b1, b2, eps, wd=0.0, decoupled=False):
    m = np.zeros_like(w)
    v = np.zeros_like(w)
    for t, g in enumerate(gs, start=1):
        if decoupled:
            w = w * (1 - lr * wd)
        else:
            g = g + wd * w
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        mhat, vhat = m / (1 - b1**t), v / (1 - b2**t)
        w = w - lr * mhat / (np.sqrt(vhat) + eps)
    return w


def numpy_adagrad(w, gs, lr, lr_decay=0.0, wd=0.0, init=0.0, eps=1e-10):
    s = np.full_like(w, init)
    for t, g in enumerate(gs, start=1):
        g = g + wd * w
        clr = lr / (1 + (t - 1) * lr_decay)
        s = s + g * g
        w = w - clr * g / (np.sqrt(s) + eps)
    return w


def numpy_rmsprop(w, gs, lr, alpha, eps, wd=0.0, momentum=0.0, centered=False):
    sq = np.zeros_like(w)
    buf = np.zeros_like(w)
    ga = np.zeros_like(w)
    for g in gs:
        g = g + wd * w
        sq = alpha * sq + (1 - alpha) * g * g
        if centered:
            ga = alpha * ga + (1 - alpha) * g
            avg = np.sqrt(sq - ga * ga) + eps
        else:
            avg = np.sqrt(sq) + eps
        if momentum > 0:
            buf = momentum * buf + g / avg
            w = w - lr * buf
        else:
            w = w - lr * g / avg
    return w


CASES = [
    ("sgd", lambda p: optim.SGD(p, lr=0.1), lambda w, g: numpy_sgd(w, g, 0.1)),
    ("momentum", lambda p: optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.01),
     lambda w, g: numpy_sgd(w, g, 0.1, 0.9, 0.1, 0.01)),
    ("nesterov", lambda p: optim.SGD(p, lr=0.05, momentum=0.8, nesterov=True),
     lambda w, g: numpy_sgd(w, g, 0.05, 0.8, nesterov=True)),
    ("adagrad", lambda p: optim.Adagrad(p, lr=0.1, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.2),
     lambda w, g: numpy_adagrad(w, g, 0.1, 0.01, 0.1, 0.2)),
    ("rmsprop", lambda p: optim.RMSprop(p, lr=0.01, alpha=0.9, eps=1e-8),
     lambda w, g: numpy_rmsprop(w, g, 0.01, 0.9, 1e-8)),
    ("rmsprop-centered-momentum", lambda p: optim.RMSprop(p, lr=0.01, alpha=0.9, momentum=0.5, centered=True,
                                                          weight_decay=0.1),
     lambda w, g: numpy_rmsprop(w, g, 0.01, 0.9, 1e-8, 0.1, 0.5, True)),
    ("adam", lambda p: optim.Adam(p, lr=0.01, betas=(0.8, 0.95), weight_decay=0.1),
     lambda w, g: numpy_adam(w, g, 0.01, 0.8, 0.95, 1e-8, 0.1)),
    ("adamw", lambda p: optim.AdamW(p, lr=0.01, weight_decay=0.1),
     lambda w, g: numpy_adam(w, g, 0.01, 0.9, 0.999, 1e-8, 0.1, decoupled=True)),
]


@pytest.mark.parametrize("name,make,reference", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-12), (np.float32, 2e-6)])
def test_first_steps_follow_the_published_rule(rng, name, make, reference, dtype, tol):
    params, grads = params_and_grads(rng, dtype)
    start = [p.data.astype(np.float64) for p in params]
    got = run(make(params), params, grads)
    for i, w in enumerate(start):
        want = reference(w, [g[i].astype(np.float64) for g in grads])
        np.testing.assert_allclose(got[i], want, rtol=tol, atol=tol)


def quadratic_problem(rng):
    x = rng.standard_normal((64, 5)).astype(np.float32)
    y = x @ rng.standard_normal((5, 1)).astype(np.float32)
    return x, y


@pytest.mark.parametrize("kind", ["full-batch GD", "mini-batch SGD", "momentum"])
def test_descent_lowers_the_training_loss(rng, kind):
    x, y = quadratic_problem(rng)
    model = nn.Linear(5, 1, rng=rng)
    loss = nn.MSELoss()
    # With momentum 0.9 the effective step is lr / (1 - 0.9): a tenth of the rate keeps it comparable.
    opt = optim.SGD(model.parameters(), lr=0.005 if kind == "momentum" else 0.05,
                    momentum=0.9 if kind == "momentum" else 0.0)
    first = loss(model(x), y)
    batches = [(x, y)] if kind == "full-batch GD" else [(x[i:i + 8], y[i:i + 8]) for i in range(0, 64, 8)]
    for _ in range(20):
        for xb, yb in batches:
            model.zero_grad()
            loss(model(xb), yb)
            model.backward(loss.backward())
            opt.step()
    assert loss(model(x), y) < 0.05 * first


def test_state_dict_resume_continues_identically(rng):
    params, grads = params_and_grads(rng)
    twin = [Parameter(p.data.copy()) for p in params]
    a = optim.Adam(params, lr=0.01)
    run(a, params, grads[:2])
    b = optim.Adam(twin, lr=0.5)
    for p, q in zip(twin, params):
        p.data[...] = q.data
    b.load_state_dict(a.state_dict())
    assert b.param_groups[0]["lr"] == 0.01
    np.testing.assert_array_equal(run(a, params, grads[2:])[0], run(b, twin, grads[2:])[0])


def test_hyper_parameters_are_validated(rng):
    p = [Parameter(np.zeros(3))]
    with pytest.raises(ValueError, match="lr must be >= 0.0, got -1"):
        optim.SGD(p, lr=-1)
    with pytest.raises(ValueError, match="nesterov momentum requires momentum > 0"):
        optim.SGD(p, lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match=r"betas\[1\] must be < 1.0, got 1.0"):
        optim.Adam(p, betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.Adam([])


def test_schedules():
    p = [Parameter(np.zeros(1))]

    def lrs(sched, n):
        out = [sched.get_last_lr()[0]]
        for _ in range(n):
            sched.step()
            out.append(sched.get_last_lr()[0])
        return out

    np.testing.assert_allclose(lrs(optim.lr_scheduler.StepLR(optim.SGD(p, lr=1.0), 2, 0.5), 4), [1, 1, .5, .5, .25])
    np.testing.assert_allclose(lrs(optim.lr_scheduler.ExponentialLR(optim.SGD(p, lr=1.0), 0.9), 2), [1, .9, .81])
    cos = lrs(optim.lr_scheduler.CosineAnnealingLR(optim.SGD(p, lr=1.0), 4, eta_min=0.0), 5)
    np.testing.assert_allclose(cos, [1, (1 + np.cos(np.pi / 4)) / 2, .5, (1 + np.cos(3 * np.pi / 4)) / 2, 0, 0],
                               atol=1e-12)
    opt = optim.SGD(p, lr=1.0)
    warm = optim.lr_scheduler.LinearWarmup(opt, 2, start_factor=0.5,
                                           after=optim.lr_scheduler.ExponentialLR(opt, 0.5))
    np.testing.assert_allclose(lrs(warm, 4), [0.5, 0.75, 1.0, 0.5, 0.25])


def test_clip_grad_norm_caps_the_global_norm(rng):
    params = [Parameter(np.zeros((3, 3))), Parameter(np.zeros(4))]
    params[0].grad = np.full(params[0].shape, 3.0, params[0].dtype)
    params[1].grad = np.full(params[1].shape, 4.0, params[1].dtype)
    total = np.sqrt(9 * 9 + 16 * 4)
    assert optim.clip_grad_norm_(params, 1.0) == pytest.approx(total)
    assert optim.grad_norm(params) == pytest.approx(1.0, rel=1e-5)


@pytest.mark.parametrize("name,make,reference", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("groups", [1, 2])
def test_step_if_finite_is_grad_norm_then_step(rng, name, make, reference, groups):
    # one group: the norm comes from the update's own pass; two: from a pass of its own. Either way the norm
    # is F.grad_norm's and the step the plain one, bit for bit
    from nntrain import functional as F

    params, grads = params_and_grads(rng, np.float32)
    twin = [Parameter(p.data.copy()) for p in params]
    split = (lambda ps: [{"params": ps[:1]}, {"params": ps[1:]}]) if groups == 2 else (lambda ps: ps)
    a, b = make(split(params)), make(split(twin))
    for g in grads:
        for p, q, gi in zip(params, twin, g):
            p.grad, q.grad = gi.copy(), gi.copy()
        a.step()
        assert b.step_if_finite() == F.grad_norm([q.grad for q in twin])
    for p, q in zip(params, twin):
        np.testing.assert_array_equal(p.data, q.data)
    assert a.steps == b.steps


@pytest.mark.parametrize("name,make,reference", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("groups", [1, 2])
def test_step_if_finite_takes_no_step_on_a_non_finite_gradient(rng, name, make, reference, groups):
    params, grads = params_and_grads(rng, np.float32)
    split = (lambda ps: [{"params": ps[:1]}, {"params": ps[1:]}]) if groups == 2 else (lambda ps: ps)
    opt = make(split(params))
    for p, g in zip(params, grads[0]):
        p.grad = g.copy()
    opt.step_if_finite()
    before = [p.data.copy() for p in params]
    state = {k: {n: a.copy() for n, a in v.items()} for k, v in opt.state_dict()["state"].items()}
    steps = list(opt.steps)
    for p, g in zip(params, grads[1]):
        p.grad = g.copy()
    params[-1].grad.flat[-1] = np.inf
    assert opt.step_if_finite() == np.inf
    for p, w in zip(params, before):
        np.testing.assert_array_equal(p.data, w)
    after = opt.state_dict()["state"]
    for k, v in state.items():
        for n, arr in v.items():
            np.testing.assert_array_equal(after[k][n], arr)
    assert opt.steps == steps
