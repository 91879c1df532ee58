"""Fused optimiser updates and gradient norms: several steps against the published rules (NumPy), every
option, norms against numpy.linalg.norm, clipping, NaN, thread-count independence and argument errors."""

import numpy as np
import pytest

from nntrain import _core
from nntrain import functional as F

from conftest import num_threads
import reference.optim as R

CHUNK = _core.OPTIM_CHUNK
# Size 1, small odd shapes, an empty array and one that straddles three chunks unevenly.
SHAPES = [(1,), (3, 5), (2 * CHUNK + 7,), (0, 4), (2, 3, 7)]
DTYPES = [np.float64, np.float32]


def tolerance(dtype):
    return 1e-12 if dtype == np.float64 else 1e-6


def assert_close(got, want, dtype, what):
    assert got.dtype == dtype, what
    tol = tolerance(dtype)
    scale = max(1.0, float(np.abs(want).max())) if want.size else 1.0
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol * scale, err_msg=what)


# ---- the rules as (state names, call of the fused update, per-array reference) --------------------------

def sgd_case(**h):
    names = ("momentum_buffers",) if h["momentum"] else ()

    def call(params, grads, st, step, **kw):
        return F.sgd_update(params, grads, st.get("momentum_buffers"), first_step=step == 1, **h, **kw)

    def ref(p, g, st, step):
        p, buf = R.sgd(p, g, st.get("momentum_buffers"), first_step=step == 1, **h)
        return p, ({"momentum_buffers": buf} if names else {})

    return names, call, ref


def adagrad_case(**h):
    def call(params, grads, st, step, **kw):
        return F.adagrad_update(params, grads, st["state_sums"], step=step, **h, **kw)

    def ref(p, g, st, step):
        p, s = R.adagrad(p, g, st["state_sums"], step=step, **h)
        return p, {"state_sums": s}

    return ("state_sums",), call, ref


def rmsprop_case(**h):
    names = ("square_avgs",) + (("momentum_buffers",) if h["momentum"] > 0 else ()) + \
        (("grad_avgs",) if h["centered"] else ())

    def call(params, grads, st, step, **kw):
        return F.rmsprop_update(params, grads, st["square_avgs"], st.get("momentum_buffers"), st.get("grad_avgs"),
                                **h, **kw)

    def ref(p, g, st, step):
        p, sq, buf, ga = R.rmsprop(p, g, st["square_avgs"], st.get("momentum_buffers"), st.get("grad_avgs"), **h)
        return p, {k: v for k, v in (("square_avgs", sq), ("momentum_buffers", buf), ("grad_avgs", ga)) if k in names}

    return names, call, ref


def adam_case(**h):
    def call(params, grads, st, step, **kw):
        return F.adam_update(params, grads, st["exp_avgs"], st["exp_avg_sqs"], step=step, **h, **kw)

    def ref(p, g, st, step):
        p, m, v = R.adam(p, g, st["exp_avgs"], st["exp_avg_sqs"], step=step, **h)
        return p, {"exp_avgs": m, "exp_avg_sqs": v}

    return ("exp_avgs", "exp_avg_sqs"), call, ref


def initial_state(name, shape, dtype):
    if name == "state_sums":  # Adagrad's initial_accumulator_value
        return np.full(shape, 0.1, dtype)
    if name == "momentum_buffers":  # SGD's first step must not read it; RMSprop's starts at zero
        return np.zeros(shape, dtype)
    return np.zeros(shape, dtype)


def run_case(rng, case, dtype, steps=4, shapes=SHAPES, start=1):
    """Runs `steps` fused updates and the reference side by side; returns (got, want) as dicts of lists."""
    names, call, ref = case
    got = {"params": [rng.standard_normal(s).astype(dtype) for s in shapes]}
    for name in names:
        got[name] = [initial_state(name, s, dtype) for s in shapes]
    want = {k: [a.astype(np.float64) for a in v] for k, v in got.items()}
    for step in range(start, start + steps):
        grads = [rng.standard_normal(s).astype(dtype) for s in shapes]
        call(got["params"], grads, {k: got[k] for k in names}, step)
        for i, g in enumerate(grads):
            p, st = ref(want["params"][i], g, {k: want[k][i] for k in names}, step)
            want["params"][i] = p
            for k, v in st.items():
                want[k][i] = v
    return got, want


def check_case(rng, case, dtype, **kw):
    got, want = run_case(rng, case, dtype, **kw)
    for k in got:
        for i, (a, b) in enumerate(zip(got[k], want[k])):
            assert_close(a, b, dtype, f"{k}[{i}]")


SGD_OPTIONS = {
    "plain": dict(lr=0.1, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False),
    "weight-decay": dict(lr=0.1, momentum=0.0, dampening=0.0, weight_decay=0.05, nesterov=False),
    "momentum": dict(lr=0.1, momentum=0.9, dampening=0.0, weight_decay=0.0, nesterov=False),
    "momentum-dampening-wd": dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.01, nesterov=False),
    "nesterov": dict(lr=0.05, momentum=0.8, dampening=0.0, weight_decay=0.0, nesterov=True),
    "nesterov-wd": dict(lr=0.05, momentum=0.8, dampening=0.0, weight_decay=0.1, nesterov=True),
}
ADAGRAD_OPTIONS = {
    "plain": dict(lr=0.1, lr_decay=0.0, weight_decay=0.0, eps=1e-10),
    "lr-decay": dict(lr=0.1, lr_decay=0.05, weight_decay=0.0, eps=1e-10),
    "wd-eps0": dict(lr=0.1, lr_decay=0.01, weight_decay=0.1, eps=0.0),
}
RMSPROP_OPTIONS = {
    f"{'centered' if c else 'plain'}-mom{m}-wd{wd}": dict(lr=0.01, alpha=0.9, eps=1e-8, weight_decay=wd,
                                                          momentum=m, centered=c)
    for c in (False, True) for m in (0.0, 0.5) for wd in (0.0, 0.1)
}
ADAM_OPTIONS = {
    "adam": dict(lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, decoupled=False),
    "adam-wd": dict(lr=0.01, beta1=0.8, beta2=0.95, eps=1e-8, weight_decay=0.1, decoupled=False),
    "adamw": dict(lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.1, decoupled=True),
    "adamw-wd0": dict(lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, decoupled=True),
    # 1 - beta1 >= 0.5 takes lerp's other branch; beta1 = 0 makes the first moment the gradient itself.
    "small-beta1": dict(lr=0.02, beta1=0.3, beta2=0.5, eps=1e-6, weight_decay=0.01, decoupled=False),
    "beta1-zero": dict(lr=0.02, beta1=0.0, beta2=0.9, eps=1e-3, weight_decay=0.0, decoupled=True),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("opt", SGD_OPTIONS, ids=list(SGD_OPTIONS))
def test_sgd_matches_published_rule(rng, dtype, opt):
    check_case(rng, sgd_case(**SGD_OPTIONS[opt]), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("opt", ADAGRAD_OPTIONS, ids=list(ADAGRAD_OPTIONS))
def test_adagrad_matches_published_rule(rng, dtype, opt):
    check_case(rng, adagrad_case(**ADAGRAD_OPTIONS[opt]), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("opt", RMSPROP_OPTIONS, ids=list(RMSPROP_OPTIONS))
def test_rmsprop_matches_published_rule(rng, dtype, opt):
    check_case(rng, rmsprop_case(**RMSPROP_OPTIONS[opt]), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("opt", ADAM_OPTIONS, ids=list(ADAM_OPTIONS))
def test_adam_matches_published_rule(rng, dtype, opt):
    check_case(rng, adam_case(**ADAM_OPTIONS[opt]), dtype)


@pytest.mark.parametrize("case", [adagrad_case(**ADAGRAD_OPTIONS["lr-decay"]), adam_case(**ADAM_OPTIONS["adam-wd"])],
                         ids=["adagrad", "adam"])
def test_step_counter_sets_lr_decay_and_bias_correction(rng, case):
    # Resuming at step 7: the step number alone decides Adagrad's decayed lr and Adam's bias corrections.
    check_case(rng, case, np.float64, steps=2, start=7)


def test_sgd_first_step_copies_the_gradient_into_the_buffer(rng):
    p = rng.standard_normal(10)
    g = rng.standard_normal(10)
    buf = np.full(10, np.nan)  # not read on the first step
    p0 = p.copy()
    F.sgd_update([p], [g], [buf], lr=0.5, momentum=0.9, dampening=0.5, first_step=True)
    np.testing.assert_array_equal(buf, g)
    np.testing.assert_array_equal(p, p0 - 0.5 * g)
    # Dampening applies from the second step on.
    F.sgd_update([p], [g], [buf], lr=0.5, momentum=0.9, dampening=0.5)
    np.testing.assert_allclose(buf, 0.9 * g + 0.5 * g, rtol=1e-15)


def test_adam_first_step_moves_each_weight_by_about_lr(rng):
    # Bias correction makes the first step lr * g / (|g| + eps'), whatever beta1 and beta2 are.
    p = rng.standard_normal(50)
    g = rng.standard_normal(50) + np.sign(rng.standard_normal(50))
    p0 = p.copy()
    F.adam_update([p], [g], [np.zeros(50)], [np.zeros(50)], lr=0.01, beta1=0.9, beta2=0.999, eps=1e-12,
                  weight_decay=0.0, step=1)
    np.testing.assert_allclose(p - p0, -0.01 * np.sign(g), rtol=1e-9)


def test_unused_state_lists_are_optional_and_untouched(rng):
    p = rng.standard_normal(6)
    g = rng.standard_normal(6)
    spare = np.full(6, 3.0)
    F.sgd_update([p], [g], None, lr=0.1)
    F.sgd_update([p], [g], [spare], lr=0.1, momentum=0.0)
    F.rmsprop_update([p], [g], [np.zeros(6)], None, [spare], lr=0.1, alpha=0.9, eps=1e-8, weight_decay=0.0,
                     momentum=0.0, centered=False)
    np.testing.assert_array_equal(spare, 3.0)


def test_empty_lists_are_fine():
    F.sgd_update([], [], None, lr=0.1)
    F.sgd_update([], [], [], lr=0.1, momentum=0.9)
    F.adagrad_update([], [], [], lr=0.1, lr_decay=0.0, weight_decay=0.0, eps=1e-10, step=1)
    F.rmsprop_update([], [], [], [], [], lr=0.1, alpha=0.9, eps=1e-8, weight_decay=0.0, momentum=0.5, centered=True)
    F.adam_update([], [], [], [], lr=0.1, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, step=1)
    assert F.grad_norm([]) == 0.0
    assert F.array_norms([]) == []
    assert F.clip_grad_norm([], 1.0) == 0.0


def test_tuples_and_read_only_gradients_are_accepted(rng):
    p = rng.standard_normal((2, 3))
    g = rng.standard_normal((2, 3))
    g.flags.writeable = False
    want, _ = R.sgd(p, g, None, lr=0.1)
    F.sgd_update((p,), (g,), None, lr=0.1)
    np.testing.assert_allclose(p, want, rtol=1e-15)
    assert F.grad_norm((g, g)) == pytest.approx(np.sqrt(2) * np.linalg.norm(g), rel=1e-14)


# ---- norms and clipping -----------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
def test_norms_match_numpy(rng, dtype):
    arrays = [rng.standard_normal(s).astype(dtype) for s in SHAPES + [(3 * CHUNK + 5,)]]
    flat = np.concatenate([a.ravel().astype(np.float64) for a in arrays])
    # Squares are summed in the array's dtype over blocks of 64 values per lane, the blocks in float64: a
    # float32 norm is good to a few float32 ulps of a block (PyTorch's float32 norm, summed in float32
    # throughout, is further off), a float64 one to float64 rounding.
    rel = 1e-7 if dtype == np.float32 else 1e-12
    assert F.grad_norm(arrays) == pytest.approx(np.linalg.norm(flat), rel=rel)
    norms = F.array_norms(arrays)
    assert isinstance(norms, list) and len(norms) == len(arrays)
    for n, a in zip(norms, arrays):
        assert isinstance(n, float)
        assert n == pytest.approx(np.linalg.norm(a.astype(np.float64).ravel()), rel=rel, abs=0.0)
    assert F.grad_norm([np.zeros((0, 3), dtype)]) == 0.0


@pytest.mark.parametrize("dtype", DTYPES)
def test_clip_leaves_small_gradients_alone(rng, dtype):
    grads = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    before = [g.copy() for g in grads]
    total = F.grad_norm(grads)
    assert F.clip_grad_norm(grads, total * 1.01) == total
    for g, b in zip(grads, before):
        np.testing.assert_array_equal(g, b)


@pytest.mark.parametrize("dtype", DTYPES)
def test_clip_scales_large_gradients_by_the_rule(rng, dtype):
    grads = [(10 * rng.standard_normal(s)).astype(dtype) for s in SHAPES]
    before = [g.copy() for g in grads]
    total = F.clip_grad_norm(grads, 2.5)
    want_grads, want_total = R.clip_grad_norm(before, 2.5)
    # the norm BEFORE clipping, to the rounding test_norms_match_numpy explains
    assert total == pytest.approx(want_total, rel=1e-7 if dtype == np.float32 else 1e-12)
    coef = dtype(2.5 / (total + 1e-6))
    for g, b, w in zip(grads, before, want_grads):
        np.testing.assert_array_equal(g, b * coef)  # exactly one multiplication by the coefficient
        assert_close(g, w, dtype, "clipped")
    assert F.grad_norm(grads) == pytest.approx(2.5, rel=1e-5)


def test_clip_at_exactly_max_norm_scales_by_the_epsilon_rule(rng):
    # PyTorch's rule: max_norm / (total + 1e-6) < 1 even when total == max_norm.
    g = rng.standard_normal(100)
    total = F.grad_norm([g])
    before = g.copy()
    F.clip_grad_norm([g], total)
    np.testing.assert_array_equal(g, before * (total / (total + 1e-6)))


@pytest.mark.parametrize("dtype", DTYPES)
def test_non_finite_gradients_give_non_finite_norms(rng, dtype):
    grads = [rng.standard_normal(s).astype(dtype) for s in [(5,), (2 * CHUNK + 1,), (3,)]]
    grads[1][CHUNK + 17] = np.nan
    assert np.isnan(F.grad_norm(grads))
    norms = F.array_norms(grads)
    assert np.isfinite(norms[0]) and np.isnan(norms[1]) and np.isfinite(norms[2])
    before = [g.copy() for g in grads]
    assert np.isnan(F.clip_grad_norm(grads, 1.0))
    for g, b in zip(grads, before):  # a NaN coefficient is not applied
        np.testing.assert_array_equal(g, b)
    grads[1][CHUNK + 17] = np.inf
    assert F.grad_norm(grads) == np.inf
    grads[0][0] = -np.inf
    grads[2][1] = np.nan
    assert np.isnan(F.grad_norm(grads))


def test_non_finite_gradient_propagates_into_the_update(rng):
    p = rng.standard_normal(8)
    g = rng.standard_normal(8)
    g[3] = np.nan
    F.adam_update([p], [g], [np.zeros(8)], [np.zeros(8)], lr=0.1, beta1=0.9, beta2=0.999, eps=1e-8,
                  weight_decay=0.0, step=1)
    assert np.isnan(p[3]) and np.isfinite(np.delete(p, 3)).all()


# ---- thread-count independence ----------------------------------------------------------------------------

BIG_SHAPES = [(300, 200), (1000,), (1,), (17, 3), (5, CHUNK + 3), (0,), (2 * CHUNK - 1,)]

THREAD_CASES = {
    "sgd-nesterov": sgd_case(lr=0.05, momentum=0.8, dampening=0.0, weight_decay=0.1, nesterov=True),
    "sgd-dampening": sgd_case(lr=0.05, momentum=0.8, dampening=0.2, weight_decay=0.0, nesterov=False),
    "adagrad": adagrad_case(lr=0.1, lr_decay=0.01, weight_decay=0.1, eps=1e-10),
    "rmsprop": rmsprop_case(lr=0.01, alpha=0.9, eps=1e-8, weight_decay=0.1, momentum=0.5, centered=True),
    "adam": adam_case(lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.1, decoupled=False),
    "adamw": adam_case(lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.1, decoupled=True),
}


@pytest.mark.parametrize("name", THREAD_CASES)
def test_updates_are_bit_identical_for_1_and_2_threads(name):
    runs = []
    for n in (1, 2):
        with num_threads(n):
            got, _ = run_case(np.random.default_rng(5), THREAD_CASES[name], np.float32, steps=2, shapes=BIG_SHAPES)
        runs.append(got)
    for k in runs[0]:
        for a, b in zip(runs[0][k], runs[1][k]):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", DTYPES)
def test_norms_are_bit_identical_for_1_and_2_threads(dtype):
    rng = np.random.default_rng(3)
    arrays = [rng.standard_normal(s).astype(dtype) for s in BIG_SHAPES]
    results = []
    for n in (1, 2):
        with num_threads(n):
            grads = [a.copy() for a in arrays]
            results.append((F.grad_norm(arrays), F.array_norms(arrays), F.clip_grad_norm(grads, 1.0), grads))
    (n1, a1, c1, g1), (n2, a2, c2, g2) = results
    assert n1 == n2 and a1 == a2 and c1 == c2
    for x, y in zip(g1, g2):
        np.testing.assert_array_equal(x, y)


# ---- the non-finite check in the update's own pass (if_finite=True) -----------------------------------------

def arrays_of(rng, names, dtype):
    params = [rng.standard_normal(s).astype(dtype) for s in BIG_SHAPES]
    state = {k: [initial_state(k, s, dtype) + 0.5 for s in BIG_SHAPES] for k in names}
    grads = [rng.standard_normal(s).astype(dtype) for s in BIG_SHAPES]
    return params, state, grads


def copies(params, state):
    return [p.copy() for p in params], {k: [a.copy() for a in v] for k, v in state.items()}


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("name", THREAD_CASES)
def test_an_update_if_finite_is_the_update_and_grad_norm_bit_for_bit(name, threads):
    names, call, _ = THREAD_CASES[name]
    for dtype in DTYPES:
        params, state, grads = arrays_of(np.random.default_rng(7), names, dtype)
        plain_params, plain_state = copies(params, state)
        with num_threads(threads):
            assert call(plain_params, grads, plain_state, 3) is None
            norm = call(params, grads, state, 3, if_finite=True)
            assert norm == F.grad_norm(grads)
        for a, b in zip(params, plain_params):
            np.testing.assert_array_equal(a, b)
        for k in names:
            for a, b in zip(state[k], plain_state[k]):
                np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("name", THREAD_CASES)
def test_a_non_finite_gradient_anywhere_leaves_every_array_as_it_was(name, bad):
    names, call, _ = THREAD_CASES[name]
    # the first element, one past a chunk boundary, a one-element array, the very last element
    for array, index in ((0, 0), (4, CHUNK + 1), (2, 0), (len(BIG_SHAPES) - 1, 2 * CHUNK - 2)):
        for threads in (1, 2):
            params, state, grads = arrays_of(np.random.default_rng(8), names, np.float32)
            grads[array].flat[index] = bad
            before_params, before_state = copies(params, state)
            with num_threads(threads):
                norm = call(params, grads, state, 3, if_finite=True)
            assert (np.isnan(norm) if np.isnan(bad) else norm == np.inf), (array, index, norm)
            for a, b in zip(params, before_params):
                np.testing.assert_array_equal(a, b)
            for k in names:
                for a, b in zip(state[k], before_state[k]):
                    np.testing.assert_array_equal(a, b)


# ---- instruction-set independence ---------------------------------------------------------------------------
# kernels/optim.h: the ISA files are compiled without fused multiply-adds, so the AVX2 and AVX-512 updates and
# norms round every element exactly as the baseline (ref) build does. Each test runs once per ISA (the `isa`
# fixture) and compares with the same computation under ref.

def under_ref(compute):
    active = _core.build_info()["isa"]
    _core.select_isa("ref")
    try:
        return compute()
    finally:
        _core.select_isa(active)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", THREAD_CASES)
def test_updates_are_bit_identical_on_every_instruction_set(name, dtype):
    def compute():
        return run_case(np.random.default_rng(6), THREAD_CASES[name], dtype, steps=2, shapes=BIG_SHAPES)[0]

    got, want = compute(), under_ref(compute)
    for k in want:
        for a, b in zip(got[k], want[k]):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", DTYPES)
def test_norms_are_bit_identical_on_every_instruction_set(dtype):
    arrays = [np.random.default_rng(4).standard_normal(s).astype(dtype) * 3 for s in BIG_SHAPES]

    def compute():
        return F.grad_norm(arrays), F.array_norms(arrays)

    assert compute() == under_ref(compute)


# ---- argument errors ----------------------------------------------------------------------------------------

def adam_lists(shapes=((256, 784), (10,)), dtype=np.float32):
    return [[np.zeros(s, dtype) for s in shapes] for _ in range(4)]


ADAM_H = dict(lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, step=1)


def test_shape_mismatch_names_list_and_index():
    p, g, m, v = adam_lists()
    m[0] = np.zeros((784, 256), np.float32)
    with pytest.raises(ValueError, match=r"^exp_avgs\[0\]: expected shape \(256, 784\), got \(784, 256\)$"):
        F.adam_update(p, g, m, v, **ADAM_H)
    p, g, m, v = adam_lists()
    g[1] = np.zeros((11,), np.float32)
    with pytest.raises(ValueError, match=r"grads\[1\]: expected shape \(10,\), got \(11,\)"):
        F.adam_update(p, g, m, v, **ADAM_H)


def test_list_lengths_must_match():
    p, g, m, v = adam_lists()
    with pytest.raises(ValueError, match=r"grads: expected 2 arrays, one per entry of params, got 1"):
        F.adam_update(p, g[:1], m, v, **ADAM_H)
    with pytest.raises(ValueError, match=r"exp_avg_sqs: expected 2 arrays, one per entry of params, got 3"):
        F.adam_update(p, g, m, v + [v[0].copy()], **ADAM_H)
    with pytest.raises(ValueError, match=r"grads: expected 0 arrays, one per entry of params, got 2"):
        F.adam_update([], g, [], [], **ADAM_H)


def test_lists_of_arrays_are_required():
    p, g, m, v = adam_lists()
    with pytest.raises(ValueError, match=r"params: expected a list of arrays, got numpy.ndarray"):
        F.adam_update(p[0], g, m, v, **ADAM_H)
    with pytest.raises(ValueError, match=r"grads\[1\]: expected a NumPy array, got list"):
        F.adam_update(p, [g[0], [1.0] * 10], m, v, **ADAM_H)
    with pytest.raises(ValueError, match=r"arrays: expected a list of arrays, got NoneType"):
        F.grad_norm(None)


def test_one_common_float_dtype_is_required():
    p, g, m, v = adam_lists()
    m[1] = m[1].astype(np.float64)
    with pytest.raises(ValueError, match=r"exp_avgs\[1\]: expected a float32 array, got float64"):
        F.adam_update(p, g, m, v, **ADAM_H)
    p, g, m, v = adam_lists()
    p[1] = p[1].astype(np.float64)
    with pytest.raises(ValueError, match=r"params\[1\]: expected a float32 array, got float64"):
        F.adam_update(p, g, m, v, **ADAM_H)
    with pytest.raises(ValueError, match=r"params\[0\]: expected a float32 or float64 array, got int64"):
        F.sgd_update([np.zeros(3, np.int64)], [np.zeros(3, np.int64)], None, lr=0.1)
    with pytest.raises(ValueError, match=r"arrays\[1\]: expected a float64 array, got float32"):
        F.grad_norm([np.zeros(3), np.zeros(3, np.float32)])


def test_contiguous_and_writeable_buffers_are_required():
    p, g, m, v = adam_lists(shapes=((4, 6),))
    g[0] = np.zeros((6, 4), np.float32).T
    with pytest.raises(ValueError, match=r"grads\[0\]: array must be C-contiguous"):
        F.adam_update(p, g, m, v, **ADAM_H)
    p, g, m, v = adam_lists(shapes=((4, 6),))
    p[0].flags.writeable = False
    with pytest.raises(ValueError, match=r"params\[0\]: array is read-only"):
        F.adam_update(p, g, m, v, **ADAM_H)
    p, g, m, v = adam_lists(shapes=((4, 6),))
    v[0].flags.writeable = False
    with pytest.raises(ValueError, match=r"exp_avg_sqs\[0\]: array is read-only"):
        F.adam_update(p, g, m, v, **ADAM_H)
    g[0].flags.writeable = False
    with pytest.raises(ValueError, match=r"grads\[0\]: array is read-only"):
        F.clip_grad_norm(g, 1.0)


def test_written_arrays_must_not_share_memory():
    p, g, m, v = adam_lists(shapes=((4, 6), (3,)))
    with pytest.raises(ValueError, match=r"params\[0\] and params\[1\] share memory"):
        F.sgd_update([p[0], p[0].reshape(-1)[:3]], g, None, lr=0.1)
    with pytest.raises(ValueError, match=r"(exp_avgs\[1\] and exp_avg_sqs\[1\]|exp_avg_sqs\[1\] and exp_avgs\[1\]) "
                                         r"share memory"):
        F.adam_update(p, g, m, [v[0], m[1]], **ADAM_H)
    with pytest.raises(ValueError, match=r"params\[0\] and grads\[0\] share memory"):
        F.adam_update(p, [p[0], g[1]], m, v, **ADAM_H)
    big = np.zeros(20)
    with pytest.raises(ValueError, match=r"share memory"):
        F.clip_grad_norm([big[:10], big[5:15]], 1.0)
    # Gradients are only read by an update: one array may serve twice.
    F.sgd_update(p[:1] + [np.zeros(24, np.float32).reshape(4, 6)], [g[0], g[0]], None, lr=0.1)


def test_state_lists_required_by_the_options():
    x = [np.zeros(3)]
    with pytest.raises(ValueError, match=r"momentum_buffers: a list of arrays is required when momentum > 0"):
        F.sgd_update(x, x, None, lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match=r"grad_avgs: a list of arrays is required when centered=True"):
        F.rmsprop_update(x, [np.zeros(3)], [np.zeros(3)], None, None, lr=0.1, alpha=0.9, eps=1e-8,
                         weight_decay=0.0, momentum=0.0, centered=True)
    with pytest.raises(ValueError, match=r"momentum_buffers: a list of arrays is required when momentum > 0"):
        F.rmsprop_update(x, [np.zeros(3)], [np.zeros(3)], None, None, lr=0.1, alpha=0.9, eps=1e-8,
                         weight_decay=0.0, momentum=0.5, centered=False)


def _sgd(**kw):
    F.sgd_update([np.zeros(2)], [np.zeros(2)], [np.zeros(2)], **{"lr": 0.1, **kw})


def _adagrad(**kw):
    h = dict(lr=0.1, lr_decay=0.0, weight_decay=0.0, eps=1e-10, step=1)
    F.adagrad_update([np.zeros(2)], [np.zeros(2)], [np.zeros(2)], **{**h, **kw})


def _rmsprop(**kw):
    h = dict(lr=0.1, alpha=0.9, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False)
    F.rmsprop_update([np.zeros(2)], [np.zeros(2)], [np.zeros(2)], [np.zeros(2)], [np.zeros(2)], **{**h, **kw})


def _adam(**kw):
    F.adam_update([np.zeros(2)], [np.zeros(2)], [np.zeros(2)], [np.zeros(2)], **{**ADAM_H, **kw})


BAD_HYPER = [
    (_sgd, dict(lr=-1.0), r"lr must be >= 0.0, got -1.0"),
    (_sgd, dict(lr=float("nan")), r"lr must be a finite number, got nan"),
    (_sgd, dict(momentum=-0.5), r"momentum must be >= 0.0, got -0.5"),
    (_sgd, dict(dampening=1.5), r"dampening must be in \[0, 1\], got 1.5"),
    (_sgd, dict(weight_decay=-0.1), r"weight_decay must be >= 0.0, got -0.1"),
    (_sgd, dict(nesterov=True), r"nesterov requires momentum > 0 and dampening == 0, got momentum=0.0"),
    (_sgd, dict(nesterov=True, momentum=0.9, dampening=0.1), r"nesterov requires .* dampening=0.1"),
    (_adagrad, dict(lr_decay=-1.0), r"lr_decay must be >= 0.0, got -1.0"),
    (_adagrad, dict(eps=-1e-10), r"eps must be >= 0.0, got -1e-10"),
    (_adagrad, dict(step=0), r"step must be >= 1, got 0"),
    (_adagrad, dict(weight_decay=float("inf")), r"weight_decay must be a finite number, got inf"),
    (_rmsprop, dict(alpha=1.5), r"alpha must be in \[0, 1\], got 1.5"),
    (_rmsprop, dict(eps=-1.0), r"eps must be >= 0.0, got -1.0"),
    (_rmsprop, dict(momentum=-1.0), r"momentum must be >= 0.0, got -1.0"),
    (_rmsprop, dict(lr=-0.1), r"lr must be >= 0.0, got -0.1"),
    (_adam, dict(beta1=1.0), r"beta1 must be in \[0, 1\), got 1.0"),
    (_adam, dict(beta2=-0.1), r"beta2 must be in \[0, 1\), got -0.1"),
    (_adam, dict(eps=0.0), r"eps must be > 0, got 0.0"),
    (_adam, dict(step=0), r"step must be >= 1, got 0"),
    (_adam, dict(weight_decay=-1.0), r"weight_decay must be >= 0.0, got -1.0"),
]


@pytest.mark.parametrize("fn,kw,message", BAD_HYPER, ids=[f"{f.__name__[1:]}-{next(iter(k))}" for f, k, _ in BAD_HYPER])
def test_bad_hyper_parameters_name_the_value(fn, kw, message):
    with pytest.raises(ValueError, match=message):
        fn(**kw)


def test_edge_hyper_parameters_torch_allows_are_accepted():
    _adagrad(eps=0.0, lr=0.0)
    _rmsprop(eps=0.0, alpha=1.0, centered=True)
    _adam(beta1=0.0, beta2=0.0)
    _sgd(dampening=1.0, momentum=0.9)


@pytest.mark.parametrize("max_norm", [0.0, -1.0, float("nan")])
def test_clip_requires_positive_max_norm(max_norm):
    with pytest.raises(ValueError, match=r"max_norm must be > 0, got"):
        F.clip_grad_norm([np.ones(3)], max_norm)
