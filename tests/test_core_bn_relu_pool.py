"""BatchNorm + ReLU + 2x2 max-pool fused (cpp/bn_relu_pool.cpp): the same results as the three ops in a
row (forward, running statistics, gradients), ties and NaN by max_pool2d's rule, central differences,
autograd, thread-count invariance, bad arguments."""

import numpy as np
import pytest

import nntrain
from nntrain import functional as F

from conftest import num_threads
from reference.numgrad import check_backward

# (N, C, H, W): even and odd sizes (an odd last row and column no window covers), a 2x2 input, the cnn
# preset's first stage.
SHAPES = [(2, 3, 4, 4), (3, 2, 5, 7), (1, 2, 2, 3), (4, 5, 14, 14), (64, 32, 28, 28)]


def three_ops(x, rm, rv, w, b, training, dout):
    """(out, dx, dweight, dbias) of batch_norm, relu and max_pool2d(2), one op after another."""
    z, mean, invstd = F.batch_norm(x, rm, rv, w, b, training, return_stats=True)
    r = F.relu(z)
    p, indices = F.max_pool2d(r, 2, return_indices=True)
    dz = F.relu_backward(F.max_pool2d_backward(dout, indices, r.shape, 2), z, r)
    return (p,) + F.batch_norm_backward(dz, x, w, mean, invstd, training)


def fused(x, rm, rv, w, b, training, dout):
    out, mean, invstd, code = F.batch_norm_relu_max_pool2d(x, rm, rv, w, b, training, return_stats=True)
    return (out,) + F.batch_norm_relu_max_pool2d_backward(dout, x, w, mean, invstd, code, training)


def args_of(rng, shape, dtype, affine=True):
    c = shape[1]
    x = (rng.standard_normal(shape) * 2 + 1).astype(dtype)
    w = rng.standard_normal(c).astype(dtype) if affine else None
    b = rng.standard_normal(c).astype(dtype) if affine else None
    rm, rv = rng.standard_normal(c).astype(dtype), rng.uniform(0.5, 2, c).astype(dtype)
    return x, rm, rv, w, b


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matches_batch_norm_relu_max_pool_in_a_row(rng, shape, training, affine, dtype):
    x, rm, rv, w, b = args_of(rng, shape, dtype, affine)
    n, c, h, wd = shape
    dout = rng.standard_normal((n, c, h // 2, wd // 2)).astype(dtype)
    rm2, rv2 = rm.copy(), rv.copy()
    got = fused(x, rm, rv, w, b, training, dout)
    want = three_ops(x, rm2, rv2, w, b, training, dout)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_array_equal(rm, rm2)
    np.testing.assert_array_equal(rv, rv2)
    for name, g, v in zip(("out", "dx", "dweight", "dbias"), got, want):
        if v is None:
            assert g is None, name
            continue
        scale = max(1.0, float(np.max(np.abs(v)))) if v.size else 1.0
        np.testing.assert_allclose(g, v, rtol=0, atol=tol * scale, err_msg=name)


def test_ties_and_nan_follow_max_pool2d(rng):
    # weight 1, bias 0 and training off with mean 0, var 1 - eps: the normalisation is the identity, so x
    # itself is pooled. Windows: a tie of positives (first wins), all negative (ReLU stops the gradient:
    # code -1), a NaN after a value, a NaN first.
    eps = 1e-5
    x = np.array([[[[2.0, 2.0, -1.0, -3.0, 1.0, np.nan, np.nan, 5.0],
                    [1.0, 2.0, -2.0, -1.0, 0.0, 3.0, 1.0, 2.0]]]], np.float32)
    rm, rv = np.zeros(1, np.float32), np.full(1, 1 - eps, np.float32)
    out, _, _, code = F.batch_norm_relu_max_pool2d(x, rm, rv, np.ones(1, np.float32), np.zeros(1, np.float32),
                                                   False, eps=eps, return_stats=True)
    want, indices = F.max_pool2d(F.relu(x), 2, return_indices=True)
    np.testing.assert_array_equal(out, want)
    assert out[0, 0, 0, 0] == 2.0 and code[0, 0, 0, 0] == 0
    assert out[0, 0, 0, 1] == 0.0 and code[0, 0, 0, 1] == -1
    assert np.isnan(out[0, 0, 0, 2]) and np.isnan(out[0, 0, 0, 3])
    dout = np.ones_like(out)
    dx, _, _ = F.batch_norm_relu_max_pool2d_backward(dout, x, None, rm, 1 / np.sqrt(rv + eps), code, False)
    assert dx[0, 0, 0, 0] == pytest.approx(1.0, rel=1e-6) and dx[0, 0, 0, 1] == 0 and dx[0, 0, 1, 1] == 0
    assert not dx[0, 0, :, 2:4].any()


@pytest.mark.parametrize("shape", [(2, 2, 4, 5), (3, 1, 3, 4)])
@pytest.mark.parametrize("training", [True, False])
def test_backward_matches_central_differences(rng, shape, training):
    x, rm, rv, w, b = args_of(rng, shape, np.float64)
    n, c, h, wd = shape
    dout = rng.standard_normal((n, c, h // 2, wd // 2))
    _, mean, invstd, code = F.batch_norm_relu_max_pool2d(x, rm.copy(), rv.copy(), w, b, training, return_stats=True)
    dx, dw, db = F.batch_norm_relu_max_pool2d_backward(dout, x, w, mean, invstd, code, training)

    def loss():
        return float(np.sum(F.batch_norm_relu_max_pool2d(x, rm.copy(), rv.copy(), w, b, training) * dout))

    check_backward(loss, {"x": x, "weight": w, "bias": b}, {"x": dx, "weight": dw, "bias": db}, tol=1e-6)


def test_autograd_matches_the_explicit_backward(rng):
    x, rm, rv, w, b = args_of(rng, (4, 3, 6, 7), np.float32)
    xt, wt, bt = (nntrain.tensor(a, requires_grad=True) for a in (x, w, b))
    out = F.batch_norm_relu_max_pool2d(xt, rm.copy(), rv.copy(), wt, bt, training=True)
    dout = rng.standard_normal(out.shape).astype(np.float32)
    out.backward(dout)
    want = fused(x, rm.copy(), rv.copy(), w, b, True, dout)
    np.testing.assert_array_equal(out.numpy(), want[0])
    for got, v in zip((xt.grad, wt.grad, bt.grad), want[1:]):
        np.testing.assert_array_equal(got, v)


def test_backward_accumulates(rng):
    x, rm, rv, w, b = args_of(rng, (2, 3, 4, 4), np.float64)
    dout = rng.standard_normal((2, 3, 2, 2))
    _, mean, invstd, code = F.batch_norm_relu_max_pool2d(x, rm, rv, w, b, True, return_stats=True)
    dx, dw, db = F.batch_norm_relu_max_pool2d_backward(dout, x, w, mean, invstd, code)
    acc = [np.ones_like(a) for a in (x, w, b)]
    F.batch_norm_relu_max_pool2d_backward(dout, x, w, mean, invstd, code, dx=acc[0], dweight=acc[1], dbias=acc[2])
    for a, g in zip(acc, (dx, dw, db)):
        np.testing.assert_allclose(a, 1 + g, rtol=1e-14)


def test_thread_count_does_not_change_results(rng):
    x, rm, rv, w, b = args_of(rng, (16, 8, 12, 10), np.float32)
    dout = rng.standard_normal((16, 8, 6, 5)).astype(np.float32)
    runs = []
    for n in (1, 2):
        with num_threads(n):
            runs.append(fused(x, rm.copy(), rv.copy(), w, b, True, dout))
    for a, b2 in zip(*runs):
        np.testing.assert_array_equal(a, b2)


def test_bad_arguments_are_value_errors():
    x = np.zeros((2, 3, 4, 4), np.float32)
    c = np.zeros(3, np.float32)
    with pytest.raises(ValueError, match=r"x: 2x2 max-pooling needs H and W >= 2, got shape \(2, 3, 1, 4\)"):
        F.batch_norm_relu_max_pool2d(np.zeros((2, 3, 1, 4), np.float32), None, None, training=True)
    with pytest.raises(ValueError, match="running_mean: evaluation mode normalises with the running statistics"):
        F.batch_norm_relu_max_pool2d(x, None, None, training=False)
    with pytest.raises(ValueError, match=r"momentum: must be in \[0, 1\]"):
        F.batch_norm_relu_max_pool2d(x, c.copy(), c + 1, training=True, momentum=2)
    with pytest.raises(ValueError, match=r"weight: expected shape \(3,\), got \(2,\)"):
        F.batch_norm_relu_max_pool2d(x, None, None, np.ones(2, np.float32), None, training=True)
    out, mean, invstd, code = F.batch_norm_relu_max_pool2d(x + 1, None, None, training=True, return_stats=True)
    bad = code.copy()
    bad[0, 0, 0, 0] = 4
    with pytest.raises(ValueError, match=r"code: entry 4 at flat position 0 is not a window position \(-1..3\)"):
        F.batch_norm_relu_max_pool2d_backward(out, x, None, mean, invstd, bad)
    with pytest.raises(ValueError, match="code: expected an int8 array"):
        F.batch_norm_relu_max_pool2d_backward(out, x, None, mean, invstd, code.astype(np.int32))
    with pytest.raises(ValueError, match=r"dout: expected shape \(2, 3, 2, 2\)"):
        F.batch_norm_relu_max_pool2d_backward(np.zeros((2, 3, 4, 4), np.float32), x, None, mean, invstd, code)
