"""Max and average pooling: against NumPy from the definition, central differences, bad arguments."""

import numpy as np
import pytest

from nntrain import functional as F

from conftest import num_threads
from reference import pool as ref
from reference.numgrad import check_backward

# (shape, kernel, stride, padding): even and odd sizes, overlapping windows, padding, uneven strides.
GEOMETRIES = [
    ((1, 1, 4, 4), (2, 2), (2, 2), (0, 0)),
    ((2, 3, 7, 5), (2, 2), (2, 2), (0, 0)),
    ((2, 2, 9, 8), (3, 3), (2, 2), (1, 1)),
    ((1, 3, 6, 11), (3, 2), (1, 3), (1, 1)),
    ((3, 1, 5, 5), (5, 5), (1, 1), (2, 2)),
    ((0, 2, 4, 4), (2, 2), (2, 2), (0, 0)),
    ((64, 32, 28, 28), (2, 2), (2, 2), (0, 0)),
]


@pytest.mark.parametrize("shape,k,s,p", GEOMETRIES)
def test_max_pool_matches_numpy(rng, shape, k, s, p):
    x = rng.standard_normal(shape).astype(np.float32)
    out, idx = F.max_pool2d(x, k, s, p, return_indices=True)
    rout, ridx = ref.max_pool2d(x, k, s, p)
    np.testing.assert_array_equal(out, rout)
    np.testing.assert_array_equal(idx, ridx)
    dout = rng.standard_normal(out.shape).astype(np.float32)
    dx = F.max_pool2d_backward(dout, idx, shape, k, s, p)
    planes = shape[0] * shape[1]
    want = np.zeros((planes, shape[2] * shape[3]))
    for plane, (i, g) in enumerate(zip(ridx.reshape(planes, out.shape[2] * out.shape[3]), dout.reshape(planes, out.shape[2] * out.shape[3]))):
        np.add.at(want[plane], i, g)
    # float32 sums of up to KH*KW overlapping windows against float64: rounding, not error
    np.testing.assert_allclose(dx, want.reshape(shape), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("shape,k,s,p", GEOMETRIES)
@pytest.mark.parametrize("count_include_pad", [True, False])
def test_avg_pool_matches_numpy(rng, shape, k, s, p, count_include_pad):
    x = rng.standard_normal(shape).astype(np.float32)
    out = F.avg_pool2d(x, k, s, p, count_include_pad=count_include_pad)
    np.testing.assert_allclose(out, ref.avg_pool2d(x, k, s, p, count_include_pad), rtol=1e-5, atol=1e-6)


# odd sides, the cnn's first stage, the smallest, and rows of 7 and of 17 windows (AVX-512 takes 16 at a time,
# several rows to a block when a row has fewer)
@pytest.mark.parametrize("shape", [(2, 3, 7, 5), (3, 4, 28, 28), (1, 2, 2, 3), (2, 3, 11, 14), (2, 2, 6, 34)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_2x2_windows_under_every_isa_pick_the_first_maximum_or_nan(rng, isa, shape, dtype):
    # 2x2 windows of stride 2 run the ISA's vectorised kernel: a few distinct values make ties everywhere,
    # and NaNs (some two to a window) must win, the first in reading order, as numpy's argmax picks
    x = rng.integers(0, 3, shape).astype(dtype)
    x.flat[rng.choice(x.size, max(1, x.size // 10), replace=False)] = np.nan
    out, idx = F.max_pool2d(x, 2, return_indices=True)
    rout, ridx = ref.max_pool2d(x, (2, 2), (2, 2), (0, 0))
    np.testing.assert_array_equal(out, rout)
    np.testing.assert_array_equal(idx, ridx)


@pytest.mark.parametrize("shape,k,s,p", GEOMETRIES[1:5])
def test_max_pool_backward_matches_central_differences(rng, shape, k, s, p):
    x = rng.permutation(np.prod(shape)).reshape(shape) * 0.01  # distinct values: no ties to flip
    out, idx = F.max_pool2d(x, k, s, p, return_indices=True)
    dout = rng.standard_normal(out.shape)
    check_backward(lambda: float(np.sum(F.max_pool2d(x, k, s, p) * dout)), {"x": x},
                   {"x": F.max_pool2d_backward(dout, idx, shape, k, s, p)}, eps=1e-4)


@pytest.mark.parametrize("shape,k,s,p", GEOMETRIES[1:5])
@pytest.mark.parametrize("count_include_pad", [True, False])
def test_avg_pool_backward_matches_central_differences(rng, shape, k, s, p, count_include_pad):
    x = rng.standard_normal(shape)
    dout = rng.standard_normal(F.avg_pool2d(x, k, s, p, count_include_pad=count_include_pad).shape)
    check_backward(lambda: float(np.sum(F.avg_pool2d(x, k, s, p, count_include_pad=count_include_pad) * dout)),
                   {"x": x},
                   {"x": F.avg_pool2d_backward(dout, shape, k, s, p, count_include_pad=count_include_pad)})


def test_stride_defaults_to_kernel_size(rng):
    x = rng.standard_normal((1, 1, 6, 6)).astype(np.float32)
    np.testing.assert_array_equal(F.max_pool2d(x, 3), F.max_pool2d(x, 3, 3))
    assert F.avg_pool2d(x, 2).shape == (1, 1, 3, 3)


def test_nan_wins_the_max():
    x = np.array([[[[1.0, np.nan], [3.0, 2.0]]]], np.float32)
    out, idx = F.max_pool2d(x, 2, return_indices=True)
    assert np.isnan(out[0, 0, 0, 0]) and idx[0, 0, 0, 0] == 1


def test_bad_arguments_are_value_errors():
    x = np.zeros((1, 2, 6, 6), np.float32)
    with pytest.raises(ValueError, match=r"max_pool2d: padding \(2, 2\) must be at most half the kernel_size \(3, 3\)"):
        F.max_pool2d(x, 3, 1, 2)
    with pytest.raises(ValueError, match=r"avg_pool2d: kernel_size must be positive"):
        F.avg_pool2d(x, 0)
    with pytest.raises(ValueError, match="smaller than the kernel's span"):
        F.max_pool2d(x, 7)
    with pytest.raises(ValueError, match=r"max_pool2d: expected input \(N, C, H, W\), got shape \(2, 6, 6\)"):
        F.max_pool2d(x[0], 2)
    out, idx = F.max_pool2d(x, 2, return_indices=True)
    bad = idx.copy()
    bad[0, 1, 2, 2] = 36
    with pytest.raises(ValueError, match=r"indices: entry 36 at flat position 17 is outside \[0, 36\)"):
        F.max_pool2d_backward(out, bad, x.shape, 2)
    with pytest.raises(ValueError, match="indices: expected an int64 array, got int32"):
        F.max_pool2d_backward(out, idx.astype(np.int32), x.shape, 2)
    with pytest.raises(ValueError, match=r"dout: expected shape \(1, 2, 3, 3\)"):
        F.avg_pool2d_backward(np.zeros((1, 2, 2, 2), np.float32), x.shape, 2)


def test_thread_count_does_not_change_results(rng):
    x = rng.standard_normal((64, 16, 14, 14)).astype(np.float32)
    runs = []
    for n in (1, 2):
        with num_threads(n):
            out, idx = F.max_pool2d(x, 3, 2, 1, return_indices=True)
            avg = F.avg_pool2d(x, 3, 2, 1)
            runs.append((out, idx, F.max_pool2d_backward(out, idx, x.shape, 3, 2, 1),
                         avg, F.avg_pool2d_backward(avg, x.shape, 3, 2, 1)))
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("shape,k,s,p", GEOMETRIES)
def test_a_new_gradient_is_written_and_a_given_one_added_to(rng, shape, k, s, p):
    # dx=None: the kernel writes every element (it clears each plane itself, no zero-fill pass), so garbage
    # in its buffer must not leak through; a given dx is added to
    from nntrain import _core

    x = rng.standard_normal(shape).astype(np.float32)
    out, idx = F.max_pool2d(x, k, s, p, return_indices=True)
    dout = rng.standard_normal(out.shape).astype(np.float32)
    fresh = F.max_pool2d_backward(dout, idx, shape, k, s, p)
    garbage = np.full(shape, np.nan, np.float32)
    _core.max_pool2d_backward(dout, idx, garbage, k, s, p, accumulate=False)
    np.testing.assert_array_equal(garbage, fresh)
    base = rng.standard_normal(shape).astype(np.float32)
    # (overlapping windows add into base one by one: rounding apart from base + their sum)
    np.testing.assert_allclose(F.max_pool2d_backward(dout, idx, shape, k, s, p, dx=base.copy()), base + fresh,
                               rtol=1e-6, atol=1e-6)
    for include in (True, False):
        fresh = F.avg_pool2d_backward(dout, shape, k, s, p, count_include_pad=include)
        garbage = np.full(shape, np.nan, np.float32)
        _core.avg_pool2d_backward(dout, garbage, k, s, p, count_include_pad=include, accumulate=False)
        np.testing.assert_array_equal(garbage, fresh)
        np.testing.assert_allclose(F.avg_pool2d_backward(dout, shape, k, s, p, count_include_pad=include,
                                                         dx=base.copy()), base + fresh, rtol=1e-6, atol=1e-6)
