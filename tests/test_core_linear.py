"""Linear forward/backward: against the NumPy oracle and central differences."""

import numpy as np
import pytest

from nntrain import functional as F

from conftest import num_threads
from reference.linear import linear as ref_linear, linear_backward as ref_linear_backward
from reference.numgrad import check_backward


@pytest.mark.parametrize("N,IN,OUT", [(1, 1, 1), (7, 13, 5), (64, 784, 256), (0, 4, 3), (3, 0, 2)])
@pytest.mark.parametrize("with_bias", [True, False])
def test_forward_matches_numpy(rng, N, IN, OUT, with_bias):
    x = rng.standard_normal((N, IN)).astype(np.float32)
    w = rng.standard_normal((OUT, IN)).astype(np.float32)
    b = rng.standard_normal(OUT).astype(np.float32) if with_bias else None
    np.testing.assert_allclose(F.linear(x, w, b), ref_linear(x, w, b), rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("N,IN,OUT", [(1, 1, 1), (7, 13, 5), (64, 200, 31)])
def test_backward_matches_numpy_float32(rng, N, IN, OUT):
    x = rng.standard_normal((N, IN)).astype(np.float32)
    w = rng.standard_normal((OUT, IN)).astype(np.float32)
    b = rng.standard_normal(OUT).astype(np.float32)
    dout = rng.standard_normal((N, OUT)).astype(np.float32)
    dx, dw, db = F.linear_backward(dout, x, w, b)
    rdx, rdw, rdb = ref_linear_backward(dout, x, w)
    for got, want in ((dx, rdx), (dw, rdw), (db, rdb)):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-4)


def test_backward_matches_central_differences(rng):
    x = rng.standard_normal((5, 7))
    w = rng.standard_normal((3, 7))
    b = rng.standard_normal(3)
    dout = rng.standard_normal((5, 3))
    dx, dw, db = F.linear_backward(dout, x, w, b)
    check_backward(lambda: float(np.sum(F.linear(x, w, b) * dout)), {"x": x, "w": w, "b": b},
                   {"x": dx, "w": dw, "b": db})


def test_backward_accumulates_and_skips(rng):
    x = rng.standard_normal((4, 6))
    w = rng.standard_normal((2, 6))
    dout = rng.standard_normal((4, 2))
    dw = np.ones_like(w)
    dx, dw_out, db = F.linear_backward(dout, x, w, None, dx=False, dweight=dw)
    assert dx is None and db is None and dw_out is dw
    np.testing.assert_allclose(dw, 1.0 + dout.T @ x, rtol=1e-12)


def test_thread_count_does_not_change_results(rng):
    x = rng.standard_normal((64, 300)).astype(np.float32)
    w = rng.standard_normal((100, 300)).astype(np.float32)
    dout = rng.standard_normal((64, 100)).astype(np.float32)
    runs = []
    for n in (1, 2):
        with num_threads(n):
            runs.append((F.linear(x, w, w[:, 0].copy()),) + F.linear_backward(dout, x, w, w[:, 0]))
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)


def test_bad_shapes_name_the_arguments(rng):
    x = np.zeros((4, 6), np.float32)
    with pytest.raises(ValueError, match=r"x has 6 features but weight \(2, 5\) expects 5"):
        F.linear(x, np.zeros((2, 5), np.float32))
    with pytest.raises(ValueError, match=r"bias: expected shape \(2,\), got \(3,\)"):
        F.linear(x, np.zeros((2, 6), np.float32), np.zeros(3, np.float32))
    with pytest.raises(ValueError, match=r"dout: expected shape \(4, 2\), got \(4, 3\)"):
        F.linear_backward(np.zeros((4, 3), np.float32), x, np.zeros((2, 6), np.float32))
    with pytest.raises(ValueError, match=r"dweight: expected shape \(2, 6\)"):
        F.linear_backward(np.zeros((4, 2), np.float32), x, np.zeros((2, 6), np.float32),
                          dweight=np.zeros((6, 2), np.float32))


@pytest.mark.parametrize("N,IN,OUT", [(1, 1, 1), (7, 13, 5), (64, 784, 256), (0, 4, 3)])
def test_backward_writes_fresh_gradients_without_reading_them(rng, isa, N, IN, OUT):
    # accumulate=False: the products run with beta = 0, so whatever the buffers held (here NaN) is never read,
    # and the result is bit-identical to adding into zeros.
    from nntrain import _core

    x = rng.standard_normal((N, IN)).astype(np.float32)
    w = rng.standard_normal((OUT, IN)).astype(np.float32)
    dout = rng.standard_normal((N, OUT)).astype(np.float32)
    written = [np.full(s, np.nan, np.float32) for s in ((N, IN), (OUT, IN), (OUT,))]
    _core.linear_backward(dout, x, w, *written, accumulate=False)
    added = [np.zeros(s, np.float32) for s in ((N, IN), (OUT, IN), (OUT,))]
    _core.linear_backward(dout, x, w, *added)
    for a, b in zip(written, added):
        np.testing.assert_array_equal(a, b)
    twice = [a.copy() for a in added]
    _core.linear_backward(dout, x, w, *twice)
    for a, b in zip(twice, added):
        np.testing.assert_allclose(a, 2 * b, rtol=1e-6, atol=1e-6)
