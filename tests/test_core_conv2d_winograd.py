"""Winograd F(2x2, 3x3) convolution (cpp/conv2d_winograd.cpp): against the im2col path to float32 rounding
under every instruction set, forward, input gradient and weight gradient; central differences in float64;
the transformed input kept by the forward; the automatic choice; thread-count invariance."""

import numpy as np
import pytest

import nntrain
from nntrain import _core, functional as F

from conftest import num_threads
from reference.numgrad import check_backward

# (N, C, H, W, OC, padding): odd and even sizes, outputs of odd height and width (a last tile reaching past
# the edge), padding 0, 1 and 2, a 3x3 input (one output), batches of 1, 15, 16, 17 and 33 images (16 go
# side by side in vector lanes), and the cnn preset's second layer.
SHAPES = [
    (1, 1, 3, 3, 1, 0),
    (3, 2, 7, 9, 5, 1),
    (15, 3, 5, 6, 4, 0),
    (16, 4, 8, 8, 3, 1),
    (17, 5, 6, 11, 7, 2),
    (33, 8, 9, 7, 16, 1),
    (20, 32, 14, 14, 64, 1),
]


def args_of(rng, shape, dtype):
    n, c, h, w, oc, pad = shape
    x = rng.standard_normal((n, c, h, w)).astype(dtype)
    weight = (rng.standard_normal((oc, c, 3, 3)) / np.sqrt(9 * c)).astype(dtype)
    bias = rng.standard_normal(oc).astype(dtype)
    return x, weight, bias, pad


def all_of(x, weight, bias, pad, dout, algorithm):
    y = F.conv2d(x, weight, bias, padding=pad, algorithm=algorithm)
    return (y,) + F.conv2d_backward(dout, x, weight, bias, padding=pad, algorithm=algorithm)


def assert_rounding_close(got, want, dtype):
    # Relative to the largest magnitude: the two algorithms round differently, each within a few ulps of it.
    scale = max(float(np.max(np.abs(want))), 1e-30) if want.size else 1.0
    tol = 8 * np.finfo(dtype).eps * scale * 4
    np.testing.assert_allclose(got, want, rtol=0, atol=tol)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matches_im2col_to_rounding_under_every_isa(rng, isa, shape, dtype):
    x, weight, bias, pad = args_of(rng, shape, dtype)
    dout = rng.standard_normal(F.conv2d(x, weight, bias, padding=pad).shape).astype(dtype)
    winograd = all_of(x, weight, bias, pad, dout, "winograd")
    im2col = all_of(x, weight, bias, pad, dout, "im2col")
    for name, got, want in zip(("y", "dx", "dweight", "dbias"), winograd, im2col):
        assert got.shape == want.shape, name
        assert_rounding_close(got, want, dtype)


# small enough for one forward per perturbed value; the last spans two groups of 16 images
@pytest.mark.parametrize("shape", [(3, 2, 7, 9, 5, 1), (2, 3, 5, 6, 4, 0), (17, 2, 4, 5, 3, 2)])
def test_backward_matches_central_differences(rng, shape):
    x, weight, bias, pad = args_of(rng, shape, np.float64)
    dout = rng.standard_normal(F.conv2d(x, weight, bias, padding=pad).shape)
    dx, dw, db = F.conv2d_backward(dout, x, weight, bias, padding=pad, algorithm="winograd")
    with num_threads(1):  # thousands of tiny calls: forks cost more than they save (results are the same)
        check_backward(lambda: float(np.sum(F.conv2d(x, weight, bias, padding=pad, algorithm="winograd") * dout)),
                       {"x": x, "weight": weight, "bias": bias}, {"x": dx, "weight": dw, "bias": db})


@pytest.mark.parametrize("shape", [SHAPES[4], SHAPES[5]])
def test_transformed_input_kept_by_forward_gives_the_same_gradients(rng, isa, shape):
    x, weight, bias, pad = args_of(rng, shape, np.float32)
    geometry = ((1, 1), (pad, pad), (1, 1))
    y, transformed = _core.conv2d_forward(x, weight, bias, *geometry, algorithm="winograd", return_transformed=True)
    np.testing.assert_array_equal(y, F.conv2d(x, weight, bias, padding=pad, algorithm="winograd"))
    n, c = x.shape[:2]
    tiles = -(-y.shape[2] // 2) * -(-y.shape[3] // 2)
    assert transformed.shape == (-(-n // 16) * 16 * 16 * c * tiles,)
    dout = rng.standard_normal(y.shape).astype(np.float32)
    kept = F.conv2d_backward(dout, x, weight, bias, padding=pad, algorithm="winograd", transformed=transformed)
    recomputed = F.conv2d_backward(dout, x, weight, bias, padding=pad, algorithm="winograd")
    for a, b in zip(kept, recomputed):
        np.testing.assert_array_equal(a, b)
    # im2col keeps nothing
    y2, none = _core.conv2d_forward(x, weight, bias, *geometry, algorithm="im2col", return_transformed=True)
    assert none is None
    with pytest.raises(ValueError, match=r"transformed: expected shape"):
        F.conv2d_backward(dout, x, weight, bias, padding=pad, algorithm="winograd", transformed=transformed[1:])
    with pytest.raises(ValueError, match=r"transformed: this layer's algorithm \(im2col\) keeps no transformed"):
        F.conv2d_backward(dout, x, weight, bias, padding=pad, algorithm="im2col", transformed=transformed)


def test_autograd_matches_the_explicit_backward(rng):
    x, weight, bias, pad = args_of(rng, (18, 8, 10, 9, 16, 1), np.float32)
    xt, wt, bt = (nntrain.tensor(a, requires_grad=True) for a in (x, weight, bias))
    y = F.conv2d(xt, wt, bt, padding=pad, algorithm="winograd")
    np.testing.assert_array_equal(y.numpy(), F.conv2d(x, weight, bias, padding=pad, algorithm="winograd"))
    dout = rng.standard_normal(y.shape).astype(np.float32)
    y.backward(dout)
    for got, want in zip((xt.grad, wt.grad, bt.grad),
                         F.conv2d_backward(dout, x, weight, bias, padding=pad, algorithm="winograd")):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("n", [8, 40])  # one group of images (positions in parallel), three groups
def test_thread_count_does_not_change_results(rng, isa, n):
    x, weight, bias, pad = args_of(rng, (n, 8, 12, 10, 16, 1), np.float32)
    dout = rng.standard_normal((n, 16, 12, 10)).astype(np.float32)
    runs = []
    for threads in (1, 2):
        with num_threads(threads):
            runs.append(all_of(x, weight, bias, pad, dout, "winograd"))
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)


def test_auto_runs_the_algorithm_the_rule_names(rng):
    for shape in SHAPES:
        x, weight, bias, pad = args_of(rng, shape, np.float32)
        name = _core.conv2d_algorithm(x, weight, padding=(pad, pad))
        assert name in ("im2col", "winograd")
        np.testing.assert_array_equal(F.conv2d(x, weight, bias, padding=pad),
                                      F.conv2d(x, weight, bias, padding=pad, algorithm=name))
    x = np.zeros((2, 3, 9, 9), np.float32)
    for weight, kw in ((np.zeros((4, 3, 5, 5), np.float32), {}), (np.zeros((4, 3, 3, 3), np.float32), {"stride": 2}),
                       (np.zeros((4, 3, 3, 3), np.float32), {"dilation": 2})):
        assert _core.conv2d_algorithm(x, weight, **{k: (v, v) for k, v in kw.items()}) == "im2col"
    wide = np.zeros((2, 16, 9, 9), np.float32)
    assert _core.conv2d_algorithm(wide, np.zeros((16, 16, 3, 3), np.float32)) == "winograd"
    assert _core.conv2d_algorithm(wide, np.zeros((16, 8, 3, 3), np.float32), groups=2) == "im2col"
    # float64 stays on im2col (Winograd is vectorised for float32 only); asked for, Winograd still runs
    assert _core.conv2d_algorithm(wide.astype(np.float64), np.zeros((16, 16, 3, 3))) == "im2col"
    x64, w64 = rng.standard_normal((2, 16, 9, 9)), rng.standard_normal((16, 16, 3, 3))
    np.testing.assert_array_equal(F.conv2d(x64, w64, padding=1), F.conv2d(x64, w64, padding=1, algorithm="im2col"))
    np.testing.assert_allclose(F.conv2d(x64, w64, padding=1, algorithm="winograd"), F.conv2d(x64, w64, padding=1),
                               rtol=1e-10, atol=1e-10)


def test_bad_algorithms_are_value_errors():
    ONLY = "algorithm: winograd computes 3x3 kernels with stride 1, dilation 1 and groups 1 only"
    x = np.zeros((2, 3, 8, 8), np.float32)
    with pytest.raises(ValueError, match="algorithm: expected one of auto, im2col, winograd, got 'fft'"):
        F.conv2d(x, np.zeros((4, 3, 3, 3), np.float32), algorithm="fft")
    with pytest.raises(ValueError, match=ONLY):
        F.conv2d(x, np.zeros((4, 3, 5, 5), np.float32), algorithm="winograd")
    with pytest.raises(ValueError, match=ONLY):
        F.conv2d(np.zeros((2, 4, 8, 8), np.float32), np.zeros((4, 2, 3, 3), np.float32), groups=2,
                 algorithm="winograd")
    with pytest.raises(ValueError, match=ONLY):
        F.conv2d_backward(np.zeros((2, 4, 3, 3), np.float32), x, np.zeros((4, 3, 3, 3), np.float32), stride=2,
                          algorithm="winograd")
