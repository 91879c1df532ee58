"""Batch normalisation: training and evaluation forward, running statistics, backward, bad arguments."""

import numpy as np
import pytest

from nntrain import functional as F

from conftest import num_threads
from reference import norm as ref
from reference.numgrad import check_backward

# Every test runs once per instruction set the CPU offers: the elementwise kernels are compiled for each.
pytestmark = pytest.mark.usefixtures("isa")

SHAPES = [(5, 3), (1, 4, 3, 3), (4, 2, 5, 7), (64, 16), (2, 1, 1, 2)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("affine", [True, False])
def test_forward_matches_numpy(rng, shape, training, affine):
    c = shape[1]
    x = (rng.standard_normal(shape) * 3 + 5).astype(np.float32)
    w = rng.standard_normal(c).astype(np.float32) if affine else None
    b = rng.standard_normal(c).astype(np.float32) if affine else None
    rm, rv = rng.standard_normal(c).astype(np.float32), rng.uniform(0.5, 2, c).astype(np.float32)
    rm2, rv2 = rm.copy(), rv.copy()
    out = F.batch_norm(x, rm, rv, w, b, training, 0.1, 1e-5)
    want = ref.batch_norm(x, rm2, rv2, w, b, training, 0.1, 1e-5)
    np.testing.assert_allclose(out, want, rtol=1e-5, atol=2e-5)
    np.testing.assert_allclose(rm, rm2, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(rv, rv2, rtol=1e-6, atol=1e-7)


def test_training_without_running_statistics(rng):
    x = rng.standard_normal((8, 3))
    out = F.batch_norm(x, None, None, training=True)
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=0), 1 / (1 + 1e-5 / x.var(axis=0)), rtol=1e-10)


@pytest.mark.parametrize("shape", SHAPES[:3] + [SHAPES[4]])
@pytest.mark.parametrize("training", [True, False])
def test_backward_matches_central_differences(rng, shape, training):
    c = shape[1]
    x = rng.standard_normal(shape)
    w, b = rng.standard_normal(c), rng.standard_normal(c)
    rm, rv = rng.standard_normal(c), rng.uniform(0.5, 2, c)
    dout = rng.standard_normal(shape)

    def loss():
        # Running statistics are copied so the perturbed forwards do not move them.
        return float(np.sum(F.batch_norm(x, rm.copy(), rv.copy(), w, b, training) * dout))

    _, mean, invstd = F.batch_norm(x, rm.copy(), rv.copy(), w, b, training, return_stats=True)
    dx, dw, db = F.batch_norm_backward(dout, x, w, mean, invstd, training)
    check_backward(loss, {"x": x, "w": w, "b": b}, {"x": dx, "w": dw, "b": db})


def test_backward_matches_numpy_float32(rng):
    x = rng.standard_normal((16, 4, 3, 3)).astype(np.float32)
    w, b = rng.standard_normal(4).astype(np.float32), rng.standard_normal(4).astype(np.float32)
    dout = rng.standard_normal(x.shape).astype(np.float32)
    _, mean, invstd = F.batch_norm(x, None, None, w, b, True, return_stats=True)
    dx, dw, db = F.batch_norm_backward(dout, x, w, mean, invstd, True)
    v, g = x.astype(np.float64), dout.astype(np.float64)
    mu, var = v.mean(axis=(0, 2, 3), keepdims=True), v.var(axis=(0, 2, 3), keepdims=True)
    xhat = (v - mu) / np.sqrt(var + 1e-5)
    m = v.size / 4
    rdx = w.reshape(1, -1, 1, 1) / np.sqrt(var + 1e-5) * (g - g.sum(axis=(0, 2, 3), keepdims=True) / m
                                                         - xhat * (g * xhat).sum(axis=(0, 2, 3), keepdims=True) / m)
    np.testing.assert_allclose(dx, rdx, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(dw, (g * xhat).sum(axis=(0, 2, 3)), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(db, g.sum(axis=(0, 2, 3)), rtol=1e-5, atol=1e-4)


def test_bad_arguments_are_value_errors():
    x = np.zeros((4, 3), np.float32)
    rm, rv = np.zeros(3, np.float32), np.ones(3, np.float32)
    with pytest.raises(ValueError, match=r"x: expected \(N, C\) or \(N, C, H, W\), got shape \(4, 3, 2\)"):
        F.batch_norm(np.zeros((4, 3, 2), np.float32), rm, rv)
    with pytest.raises(ValueError, match="more than one value per channel"):
        F.batch_norm(np.zeros((1, 3), np.float32), rm, rv, training=True)
    with pytest.raises(ValueError, match="evaluation mode normalises with the running statistics"):
        F.batch_norm(x, None, None, training=False)
    with pytest.raises(ValueError, match=r"running_mean: expected shape \(3,\), got \(2,\)"):
        F.batch_norm(x, np.zeros(2, np.float32), rv, training=True)
    with pytest.raises(ValueError, match="running_var: expected a float32 array, got float64"):
        F.batch_norm(x, rm, np.ones(3), training=True)
    with pytest.raises(ValueError, match="momentum"):
        F.batch_norm(x, rm, rv, training=True, momentum=2)


def test_thread_count_does_not_change_results(rng):
    x = rng.standard_normal((64, 32, 14, 14)).astype(np.float32)
    w, b = rng.standard_normal(32).astype(np.float32), rng.standard_normal(32).astype(np.float32)
    runs = []
    for n in (1, 2):
        with num_threads(n):
            rm, rv = np.zeros(32, np.float32), np.ones(32, np.float32)
            out, mean, invstd = F.batch_norm(x, rm, rv, w, b, True, return_stats=True)
            runs.append((out, rm, rv) + F.batch_norm_backward(x, x, w, mean, invstd, True))
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("fused_relu", [True, False])
def test_new_gradients_are_written_and_given_ones_added_to(rng, training, fused_relu):
    # with no buffers given, the kernel writes dx, dweight and dbias in its one pass (no zero-fill first):
    # garbage in them must not leak through; buffers given are added to, all three together
    from nntrain import _core

    x = rng.standard_normal((8, 3, 5, 4)).astype(np.float32)
    w, b = rng.standard_normal(3).astype(np.float32), rng.standard_normal(3).astype(np.float32)
    dout = rng.standard_normal(x.shape).astype(np.float32)
    running = (None, None) if training else (rng.standard_normal(3).astype(np.float32), np.ones(3, np.float32))
    out, mean, invstd = F.batch_norm(x, *running, w, b, training, return_stats=True, relu=fused_relu)
    relu_out = out if fused_relu else None
    fresh = F.batch_norm_backward(dout, x, w, mean, invstd, training, relu_out=relu_out)
    garbage = [np.full(x.shape, np.nan, np.float32), np.full(3, np.nan, np.float32), np.full(3, np.nan, np.float32)]
    _core.batch_norm_backward(dout, x, w, mean, invstd, training, *garbage, relu_out, accumulate=False)
    for got, want in zip(garbage, fresh):
        np.testing.assert_array_equal(got, want)
    base = [rng.standard_normal(x.shape).astype(np.float32), rng.standard_normal(3).astype(np.float32),
            rng.standard_normal(3).astype(np.float32)]
    added = F.batch_norm_backward(dout, x, w, mean, invstd, training, dx=base[0].copy(), dweight=base[1].copy(),
                                  dbias=base[2].copy(), relu_out=relu_out)
    for got, start, want in zip(added, base, fresh):
        np.testing.assert_allclose(got, start + want, rtol=1e-6, atol=1e-6)
