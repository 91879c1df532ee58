"""Activations, softmax and log-softmax: forward against NumPy, backward against NumPy and central
differences, bad arguments, thread-count independence."""

import numpy as np
import pytest

from nntrain import functional as F

from conftest import num_threads
from reference import activation as ref
from reference.numgrad import check_backward

# Every test runs once per instruction set the CPU offers: the elementwise kernels are compiled for each.
pytestmark = pytest.mark.usefixtures("isa")

# (name in reference, forward, backward, param, differentiates through y)
ACTIVATIONS = [
    ("relu", lambda x: F.relu(x), lambda g, x, y: F.relu_backward(g, x, y), 0.0),
    ("leaky_relu", lambda x: F.leaky_relu(x, 0.1), lambda g, x, y: F.leaky_relu_backward(g, x, y, 0.1), 0.1),
    ("elu", lambda x: F.elu(x, 1.3), lambda g, x, y: F.elu_backward(g, x, y, 1.3), 1.3),
    ("sigmoid", F.sigmoid, lambda g, x, y: F.sigmoid_backward(g, x, y), 0.0),
    ("tanh", F.tanh, lambda g, x, y: F.tanh_backward(g, x, y), 0.0),
    ("gelu", F.gelu, lambda g, x, y: F.gelu_backward(g, x, y), 0.0),
    ("gelu_tanh", lambda x: F.gelu(x, "tanh"), lambda g, x, y: F.gelu_backward(g, x, y, "tanh"), 0.0),
]
IDS = [a[0] for a in ACTIVATIONS]


def away_from_kinks(x):
    # Central differences straddling 0 would see ReLU's kink; nudge values off it.
    return np.where(np.abs(x) < 1e-3, 0.1, x)


@pytest.mark.parametrize("name,fwd,bwd,param", ACTIVATIONS, ids=IDS)
@pytest.mark.parametrize("shape", [(1,), (7,), (3, 5), (2, 3, 4, 5), (0, 4), (40001,)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_forward_matches_numpy(rng, name, fwd, bwd, param, shape, dtype):
    x = (rng.standard_normal(shape) * 3).astype(dtype)
    y = fwd(x)
    assert y.dtype == dtype and y.shape == x.shape
    tol = 1e-6 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(y, ref.forward(name, x, param), rtol=tol, atol=tol)


@pytest.mark.parametrize("name,fwd,bwd,param", ACTIVATIONS, ids=IDS)
def test_backward_matches_numpy_float32(rng, name, fwd, bwd, param):
    x = (rng.standard_normal((6, 33)) * 3).astype(np.float32)
    g = rng.standard_normal(x.shape).astype(np.float32)
    got = bwd(g, x, fwd(x))
    np.testing.assert_allclose(got, g * ref.derivative(name, x, param), rtol=2e-5, atol=1e-6)


@pytest.mark.parametrize("name,fwd,bwd,param", ACTIVATIONS, ids=IDS)
def test_backward_matches_central_differences(rng, name, fwd, bwd, param):
    x = away_from_kinks(rng.standard_normal((3, 7)) * 2)
    g = rng.standard_normal(x.shape)
    check_backward(lambda: float(np.sum(fwd(x) * g)), {"x": x}, {"x": bwd(g, x, fwd(x))})


def test_backward_accumulates_into_given_buffer(rng):
    x = rng.standard_normal((4, 5))
    g = rng.standard_normal(x.shape)
    acc = np.ones_like(x)
    out = F.relu_backward(g, x, dx=acc)
    assert out is acc
    np.testing.assert_array_equal(acc, 1 + g * (x > 0))
    assert F.relu_backward(g, x, dx=False) is None


@pytest.mark.parametrize("name,fwd,bwd,param", ACTIVATIONS, ids=IDS)
def test_a_new_gradient_is_written_not_added_to_what_the_buffer_held(rng, name, fwd, bwd, param):
    # With no dx the kernel writes a fresh array (no zero-fill pass), whatever memory the array reuses: the
    # NaN-filled array just freed is what the allocator hands out next, so a kernel that added to its
    # buffer would return NaN.
    x = rng.standard_normal((3, 40000)).astype(np.float32)  # several chunks, on the threads
    g = rng.standard_normal(x.shape).astype(np.float32)
    y = fwd(x)
    want = bwd(g, x, y).copy()
    np.testing.assert_allclose(want, g * ref.derivative(name, x, param), rtol=2e-5, atol=1e-6)
    for _ in range(3):
        poison = np.full_like(x, np.nan)
        del poison
        np.testing.assert_array_equal(bwd(g, x, y), want)


def test_sigmoid_and_tanh_backward_recompute_y_from_x(rng):
    x = rng.standard_normal(10)
    g = rng.standard_normal(10)
    np.testing.assert_allclose(F.sigmoid_backward(g, x), F.sigmoid_backward(g, y=F.sigmoid(x)), rtol=0)
    np.testing.assert_allclose(F.tanh_backward(g, x), F.tanh_backward(g, y=F.tanh(x)), rtol=0)


def test_nan_propagates():
    x = np.array([np.nan, 1.0, -1.0], np.float32)
    for fwd in (F.relu, F.sigmoid, F.tanh, F.gelu, F.elu, F.leaky_relu):
        assert np.isnan(fwd(x)[0]), fwd


@pytest.mark.parametrize("temperature", [1.0, 0.5, 3.0])
@pytest.mark.parametrize("shape", [(1, 1), (4, 10), (3, 1000), (2, 3, 7), (0, 5)])
def test_softmax_and_log_softmax_forward(rng, temperature, shape):
    x = (rng.standard_normal(shape) * 5).astype(np.float32)
    np.testing.assert_allclose(F.softmax(x, temperature=temperature), ref.softmax(x, temperature), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(F.log_softmax(x, temperature=temperature), ref.log_softmax(x, temperature), rtol=1e-5, atol=1e-5)


def test_softmax_is_stable_for_huge_logits():
    x = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4]], np.float32)
    np.testing.assert_allclose(F.softmax(x), [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3]], rtol=1e-6)
    ls = F.log_softmax(x)
    assert np.all(np.isfinite(ls)) and ls[0, 0] == 0 and ls[0, 1] == -2e4


def test_temperature_flattens_the_distribution(rng):
    x = rng.standard_normal((1, 10))
    entropy = [-(p * np.log(p)).sum() for p in (F.softmax(x, temperature=t) for t in (0.5, 1, 2))]
    assert entropy[0] < entropy[1] < entropy[2]


@pytest.mark.parametrize("temperature", [1.0, 0.7])
def test_softmax_backward_matches_central_differences(rng, temperature):
    x = rng.standard_normal((3, 5))
    g = rng.standard_normal(x.shape)
    check_backward(lambda: float(np.sum(F.softmax(x, temperature=temperature) * g)), {"x": x},
                   {"x": F.softmax_backward(g, F.softmax(x, temperature=temperature), temperature)})
    check_backward(lambda: float(np.sum(F.log_softmax(x, temperature=temperature) * g)), {"x": x},
                   {"x": F.log_softmax_backward(g, F.log_softmax(x, temperature=temperature), temperature)})


@pytest.mark.parametrize("log", [False, True])
def test_softmax_backward_writes_a_new_gradient_and_adds_into_a_given_one(rng, log):
    # As the activations: no dx, a new array written whatever memory it reuses; a dx, added into.
    forward, backward = (F.log_softmax, F.log_softmax_backward) if log else (F.softmax, F.softmax_backward)
    x = rng.standard_normal((300, 333)).astype(np.float32)
    g = rng.standard_normal(x.shape).astype(np.float32)
    y = forward(x)
    want = backward(g, y).copy()
    np.testing.assert_allclose(want, backward(g.astype(np.float64), y.astype(np.float64)), rtol=1e-4, atol=1e-6)
    for _ in range(3):
        poison = np.full_like(x, np.nan)
        del poison
        np.testing.assert_array_equal(backward(g, y), want)
    acc = np.ones_like(x)
    assert backward(g, y, dx=acc) is acc
    np.testing.assert_allclose(acc, 1 + want, rtol=1e-6, atol=1e-6)
    assert backward(g, y, dx=False) is None


def test_softmax_backward_matches_numpy_float32(rng):
    x = rng.standard_normal((8, 12)).astype(np.float32)
    g = rng.standard_normal(x.shape).astype(np.float32)
    y = ref.softmax(x.astype(np.float64))
    want = y * (g - (g * y).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(F.softmax_backward(g, F.softmax(x)), want, rtol=1e-5, atol=1e-6)
    want_log = g - np.exp(ref.log_softmax(x.astype(np.float64))) * g.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(F.log_softmax_backward(g, F.log_softmax(x)), want_log, rtol=1e-5, atol=1e-5)


def test_bad_arguments_are_value_errors():
    x = np.zeros((2, 3), np.float32)
    with pytest.raises(ValueError, match="x: expected a float32 or float64 array, got int64"):
        F.relu(np.zeros(3, np.int64))
    with pytest.raises(ValueError, match="C-contiguous"):
        F.relu(np.zeros((4, 4), np.float32)[:, ::2])
    with pytest.raises(ValueError, match=r"dout: shape \(2, 4\) does not match x \(2, 3\)"):
        F.relu_backward(np.zeros((2, 4), np.float32), x)
    with pytest.raises(ValueError, match="x: expected a float32 array, got float64"):
        F.relu_backward(x, np.zeros((2, 3)))
    with pytest.raises(ValueError, match="temperature: must be a positive"):
        F.softmax(x, temperature=0.0)
    with pytest.raises(TypeError, match="dim must be an int"):
        F.softmax(x, 0.5)
    with pytest.raises(ValueError, match="approximate"):
        F.gelu(x, "fast")
    with pytest.raises(ValueError, match=r"dx: expected shape \(2, 3\)"):
        F.relu_backward(x, x, dx=np.zeros((3, 2), np.float32))
    with pytest.raises(ValueError, match="dx: array is read-only"):
        ro = np.zeros((2, 3), np.float32)
        ro.flags.writeable = False
        F.relu_backward(x, x, dx=ro)


def test_thread_count_does_not_change_results(rng):
    x = rng.standard_normal((300, 700)).astype(np.float32)
    g = rng.standard_normal(x.shape).astype(np.float32)
    runs = []
    for n in (1, 2):
        with num_threads(n):
            runs.append([F.gelu(x), F.gelu_backward(g, x), F.softmax(x, temperature=2.0), F.softmax_backward(g, F.softmax(x))])
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)


SPECIAL = np.array([0.0, -0.0, 1e-30, -1e-8, 3e-4, 5e-4, 0.625, -3.0, 7.9, -8.0, 40.0, -40.0, 88.5, 89.0, -87.0,
                    -88.0, -104.0, -110.0, 1e30, -1e30, np.inf, -np.inf, np.nan])


@pytest.mark.parametrize("name,fwd,bwd,param", ACTIVATIONS, ids=IDS)
def test_special_values_match_float64(name, fwd, bwd, param):
    # Range reductions, clamps and tiny-argument branches of the vectorised exp/expm1/tanh/erf, with
    # infinities and NaN, against the float64 formulas (fixed chunk of 16 keeps every value in the vector
    # body, a 23rd in the remainder loop).
    x = np.concatenate([SPECIAL, SPECIAL[::-1]]).astype(np.float32)
    with np.errstate(all="ignore"):
        want = ref.forward(name, x, param)
    np.testing.assert_allclose(fwd(x), want, rtol=1e-6, atol=1e-6, equal_nan=True)


def test_expm1_keeps_its_digits_near_zero():
    # ELU's negative side is alpha * expm1(x); exp(x) - 1 would lose all digits of x = -1e-6.
    x = -np.logspace(-12, -1, 50).astype(np.float32)
    np.testing.assert_allclose(F.elu(x, 1.0), np.expm1(x.astype(np.float64)), rtol=3e-7)
