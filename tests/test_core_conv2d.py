"""im2col/col2im and conv2d: against NumPy from the definition, the direct-loop twin, central differences."""

import numpy as np
import pytest

from nntrain import _core, functional as F

from conftest import num_threads
from reference import conv as ref
from reference.numgrad import check_backward

# (N, C, H, W, OC, kernel, stride, padding, dilation): odd, prime, 1x1, strides and paddings that do not
# divide evenly, dilation, an empty batch.
GEOMETRIES = [
    (1, 1, 5, 5, 1, (3, 3), (1, 1), (0, 0), (1, 1)),
    (2, 3, 7, 6, 4, (3, 3), (1, 1), (1, 1), (1, 1)),
    (3, 2, 11, 13, 5, (3, 2), (2, 3), (1, 0), (1, 1)),
    (2, 5, 9, 9, 3, (1, 1), (1, 1), (0, 0), (1, 1)),
    (2, 3, 10, 10, 2, (3, 3), (2, 2), (2, 1), (2, 2)),
    (1, 4, 8, 8, 6, (5, 5), (3, 3), (2, 2), (1, 1)),
    (0, 3, 6, 6, 2, (3, 3), (1, 1), (1, 1), (1, 1)),
    (64, 1, 28, 28, 8, (5, 5), (1, 1), (2, 2), (1, 1)),
]


def conv_args(rng, geometry, dtype):
    n, c, h, w, oc, k, s, p, d = geometry
    x = rng.standard_normal((n, c, h, w)).astype(dtype)
    weight = rng.standard_normal((oc, c) + k).astype(dtype)
    bias = rng.standard_normal(oc).astype(dtype)
    return x, weight, bias, dict(stride=s, padding=p, dilation=d)


@pytest.mark.parametrize("geometry", GEOMETRIES)
def test_im2col_matches_numpy_and_col2im_is_its_adjoint(rng, geometry):
    _, c, h, w, _, k, s, p, d = geometry
    img = rng.standard_normal((c, h, w))
    col = F.im2col(img, k, s, p, d)
    np.testing.assert_array_equal(col, ref.im2col(img, k, s, p, d))
    # <im2col(x), y> == <x, col2im(y)> for random x, y
    y = rng.standard_normal(col.shape)
    back = F.col2im(y, img.shape, k, s, p, d)
    assert np.sum(col * y) == pytest.approx(np.sum(img * back), rel=1e-12)
    np.testing.assert_allclose(back, ref.col2im(y, img.shape, k, s, p, d), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("geometry", GEOMETRIES)
@pytest.mark.parametrize("with_bias", [True, False])
def test_forward_matches_numpy_and_direct_loops(rng, geometry, with_bias):
    x, weight, bias, geo = conv_args(rng, geometry, np.float32)
    bias = bias if with_bias else None
    y = F.conv2d(x, weight, bias, **geo)
    np.testing.assert_allclose(y, ref.conv2d(x, weight, bias, geo["stride"], geo["padding"], geo["dilation"]),
                               rtol=1e-4, atol=1e-4)
    naive = _core.conv2d_forward(x, weight, bias, geo["stride"], geo["padding"], geo["dilation"], naive=True)
    np.testing.assert_allclose(y, naive, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("geometry", GEOMETRIES)
def test_backward_matches_numpy_float32(rng, geometry):
    x, weight, bias, geo = conv_args(rng, geometry, np.float32)
    dout = rng.standard_normal(F.conv2d(x, weight, bias, **geo).shape).astype(np.float32)
    dx, dw, db = F.conv2d_backward(dout, x, weight, bias, **geo)
    rdx, rdw, rdb = ref.conv2d_backward(dout, x, weight, geo["stride"], geo["padding"], geo["dilation"])
    for got, want in ((dx, rdx), (dw, rdw), (db, rdb)):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=2e-4)


@pytest.mark.parametrize("geometry", GEOMETRIES[1:6])
def test_backward_matches_central_differences(rng, geometry):
    x, weight, bias, geo = conv_args(rng, geometry, np.float64)
    dout = rng.standard_normal(F.conv2d(x, weight, bias, **geo).shape)
    dx, dw, db = F.conv2d_backward(dout, x, weight, bias, **geo)
    check_backward(lambda: float(np.sum(F.conv2d(x, weight, bias, **geo) * dout)),
                   {"x": x, "weight": weight, "bias": bias}, {"x": dx, "weight": dw, "bias": db})


def test_backward_accumulates_and_skips(rng):
    x, weight, bias, geo = conv_args(rng, GEOMETRIES[1], np.float64)
    dout = rng.standard_normal(F.conv2d(x, weight, bias, **geo).shape)
    _, dw, db = F.conv2d_backward(dout, x, weight, bias, **geo)
    acc_w, acc_b = np.ones_like(weight), np.ones_like(bias)
    dx, dw2, db2 = F.conv2d_backward(dout, x, weight, bias, **geo, dx=False, dweight=acc_w, dbias=acc_b)
    assert dx is None and dw2 is acc_w and db2 is acc_b
    np.testing.assert_allclose(acc_w, 1 + dw, rtol=1e-14)
    np.testing.assert_allclose(acc_b, 1 + db, rtol=1e-14)


# every algorithm on shapes with several blocks or chunks: im2col with groups, Winograd at 28x28 (one tile row
# per chunk) and 14x14 over three groups of 16 images, padding 0 (a last tile past the edge) and 2
WRITTEN = [
    ((40, 4, 9, 7, 6, (3, 3), (1, 1), (1, 1), (1, 1)), 2, "im2col"),
    ((3, 2, 11, 13, 5, (3, 2), (2, 3), (1, 0), (1, 1)), 1, "im2col"),
    ((20, 8, 28, 28, 8, (3, 3), (1, 1), (1, 1), (1, 1)), 1, "winograd"),
    ((40, 8, 14, 14, 16, (3, 3), (1, 1), (0, 0), (1, 1)), 1, "winograd"),
    ((17, 3, 10, 9, 4, (3, 3), (1, 1), (2, 2), (1, 1)), 1, "winograd"),
    ((0, 3, 6, 6, 2, (3, 3), (1, 1), (1, 1), (1, 1)), 1, "winograd"),
]


@pytest.mark.parametrize("geometry, groups, algorithm", WRITTEN)
def test_written_gradients_equal_the_ones_added_to_zeros(rng, isa, geometry, groups, algorithm):
    # accumulate=False writes each gradient in the pass that computes it: buffers holding anything (NaN) come
    # out equal, bit for bit, to zeros added to
    n, c, h, w, oc, k, stride, padding, dilation = geometry
    x = rng.standard_normal((n, c, h, w)).astype(np.float32)
    weight = rng.standard_normal((oc, c // groups) + k).astype(np.float32)
    dout = rng.standard_normal(F.conv2d(x, weight, None, stride, padding, dilation, groups).shape).astype(np.float32)
    args = (stride, padding, dilation, groups)
    added = [np.zeros_like(x), np.zeros_like(weight), np.zeros(oc, np.float32)]
    _core.conv2d_backward(dout, x, weight, *added, *args, algorithm=algorithm, accumulate=True)
    written = [np.full_like(a, np.nan) for a in added]
    _core.conv2d_backward(dout, x, weight, *written, *args, algorithm=algorithm, accumulate=False)
    for name, got, want in zip(("dx", "dweight", "dbias"), written, added):
        np.testing.assert_array_equal(got, want, err_msg=name)


def test_large_batches_run_in_several_chunks_with_the_same_result(rng):
    # 200 images of 32 channels at 28x28 exceed one chunk of scratch; compare against image-by-image.
    x = rng.standard_normal((200, 32, 14, 14)).astype(np.float32)
    weight = rng.standard_normal((16, 32, 3, 3)).astype(np.float32)
    y = F.conv2d(x, weight, padding=1)
    for i in (0, 77, 199):
        np.testing.assert_allclose(y[i:i + 1], F.conv2d(x[i:i + 1], weight, padding=1), rtol=1e-5, atol=1e-4)
    dout = rng.standard_normal(y.shape).astype(np.float32)
    dx, dw, _ = F.conv2d_backward(dout, x, weight, padding=1)
    dx1, _, _ = F.conv2d_backward(dout[77:78], x[77:78], weight, padding=1)
    np.testing.assert_allclose(dx[77:78], dx1, rtol=1e-5, atol=1e-4)
    rdw = sum(ref.conv2d_backward(dout[i:i + 1], x[i:i + 1], weight, (1, 1), (1, 1), (1, 1))[1] for i in range(200))
    np.testing.assert_allclose(dw, rdw, rtol=1e-4, atol=1e-2)


def test_thread_count_does_not_change_results(rng):
    x = rng.standard_normal((32, 8, 16, 16)).astype(np.float32)
    weight = rng.standard_normal((16, 8, 3, 3)).astype(np.float32)
    bias = rng.standard_normal(16).astype(np.float32)
    dout = rng.standard_normal((32, 16, 16, 16)).astype(np.float32)
    runs = []
    for n in (1, 2):
        with num_threads(n):
            runs.append((F.conv2d(x, weight, bias, padding=1),) + F.conv2d_backward(dout, x, weight, bias, padding=1))
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)


def test_bad_arguments_are_value_errors():
    x = np.zeros((2, 3, 8, 8), np.float32)
    w = np.zeros((4, 3, 3, 3), np.float32)
    with pytest.raises(ValueError, match=r"x has 3 channels but weight \(4, 2, 3, 3\) expects 2"):
        F.conv2d(x, np.zeros((4, 2, 3, 3), np.float32))
    with pytest.raises(ValueError, match=r"conv2d: expected input \(N, C, H, W\), got shape \(3, 8, 8\)"):
        F.conv2d(x[0], w)
    with pytest.raises(ValueError, match="smaller than the kernel's span"):
        F.conv2d(np.zeros((1, 3, 2, 2), np.float32), w)
    with pytest.raises(ValueError, match=r"stride must be positive, got \(0, 0\)"):
        F.conv2d(x, w, stride=0)
    with pytest.raises(ValueError, match=r"padding must be non-negative"):
        F.conv2d(x, w, padding=-1)
    with pytest.raises(ValueError, match=r"stride: expected an int or a pair of ints"):
        F.conv2d(x, w, stride="2")
    with pytest.raises(ValueError, match=r"bias: expected shape \(4,\), got \(3,\)"):
        F.conv2d(x, w, np.zeros(3, np.float32))
    with pytest.raises(ValueError, match="weight: expected a float32 array, got float64"):
        F.conv2d(x, w.astype(np.float64))
    with pytest.raises(ValueError, match=r"dout: expected shape \(2, 4, 6, 6\), got \(2, 4, 8, 8\)"):
        F.conv2d_backward(np.zeros((2, 4, 8, 8), np.float32), x, w)
