"""Convolution groups and padding modes, conv1d, pooling with ceil_mode and dilation, 1-D pooling and
adaptive average pooling: NumPy oracles, central differences, every ISA and thread count, errors."""

import numpy as np
import pytest

from nntrain import functional as F
from nntrain._tensor import Tensor

from conftest import num_threads
from reference import conv as ref_conv
from reference import pool as ref_pool
from reference.gradcheck import check_gradients

GROUPED = [  # x shape, (out channels, kernel), stride, padding, dilation, groups
    ((2, 4, 7, 6), (6, (3, 3)), (1, 1), (1, 1), (1, 1), 2),
    ((3, 6, 5, 5), (6, (3, 2)), (2, 1), (0, 1), (1, 2), 3),
    ((2, 4, 6, 6), (4, (3, 3)), (1, 1), (1, 1), (1, 1), 4),   # depthwise
    ((1, 4, 5, 5), (8, (1, 1)), (1, 1), (0, 0), (1, 1), 2),   # 1x1: the direct path
    ((40, 2, 5, 5), (4, (3, 3)), (1, 1), (1, 1), (1, 1), 2),  # several images per GEMM block
]


@pytest.mark.parametrize("shape,out,stride,padding,dilation,groups", GROUPED)
def test_grouped_conv_matches_separate_convolutions(rng, isa, shape, out, stride, padding, dilation, groups):
    oc, kernel = out
    x = rng.standard_normal(shape).astype(np.float32)
    w = rng.standard_normal((oc, shape[1] // groups) + kernel).astype(np.float32)
    b = rng.standard_normal(oc).astype(np.float32)
    got = F.conv2d(x, w, b, stride, padding, dilation, groups)
    np.testing.assert_allclose(got, ref_conv.conv2d_grouped(x, w, b, stride, padding, dilation, groups),
                               rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("shape,out,stride,padding,dilation,groups", GROUPED[:4])
def test_grouped_conv_gradients(rng, shape, out, stride, padding, dilation, groups):
    oc, kernel = out
    w = rng.standard_normal((oc, shape[1] // groups) + kernel)
    check_gradients(lambda x, w, b: F.conv2d(x, w, b, stride, padding, dilation, groups),
                    [rng.standard_normal(shape), w, rng.standard_normal(oc)], rng)


def test_grouped_conv_is_the_same_on_any_thread_count(rng):
    x = rng.standard_normal((64, 8, 10, 10)).astype(np.float32)
    w = rng.standard_normal((16, 2, 3, 3)).astype(np.float32)
    runs = []
    for n in (1, 2):
        with num_threads(n):
            t, tw = Tensor(x, requires_grad=True), Tensor(w, requires_grad=True)
            y = F.conv2d(t, tw, padding=1, groups=4)
            (y * y).sum().backward()
            runs.append((y.data, t.grad, tw.grad))
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kernel,dilation", [((3, 3), (1, 1)), ((2, 4), (1, 1)), ((3, 2), (2, 3)), ((1, 1), (1, 1))])
@pytest.mark.parametrize("groups", [1, 2])
def test_padding_same_keeps_the_size_with_pytorchs_asymmetric_rule(rng, kernel, dilation, groups):
    x = rng.standard_normal((2, 4, 7, 8))
    w = rng.standard_normal((4, 4 // groups) + kernel)
    y = F.conv2d(x, w, None, 1, "same", dilation, groups)
    assert y.shape == (2, 4, 7, 8)
    np.testing.assert_allclose(y, ref_conv.conv2d_same(x, w, None, dilation, groups), rtol=1e-12, atol=1e-12)
    check_gradients(lambda x, w: F.conv2d(x, w, None, 1, "same", dilation, groups), [x, w], rng)
    np.testing.assert_array_equal(F.conv2d(x, w, None, 1, "valid", dilation, groups),
                                  F.conv2d(x, w, None, 1, 0, dilation, groups))


@pytest.mark.parametrize("stride,padding,dilation,groups",
                         [(1, 0, 1, 1), (2, 1, 1, 1), (1, "same", 2, 2), (3, 2, 2, 2)])
def test_conv1d_is_conv2d_of_unit_height(rng, stride, padding, dilation, groups):
    x = rng.standard_normal((3, 4, 11))
    w, b = rng.standard_normal((6, 4 // groups, 3)), rng.standard_normal(6)
    y = F.conv1d(x, w, b, stride, padding, dilation, groups)
    pad2d = padding if isinstance(padding, str) else (0, padding)
    want = F.conv2d(x[:, :, None], w[:, :, None], b, (1, stride), pad2d, (1, dilation), groups)[:, :, 0]
    np.testing.assert_array_equal(y, want)
    # and against the definition: out[n, o, l] = b[o] + sum over the group's channels and taps
    if padding == 0 and stride == 1 and groups == 1:
        direct = np.stack([np.einsum("ncl,ocl->no", x[:, :, l:l + 3], w) for l in range(9)], axis=2) + b[:, None]
        np.testing.assert_allclose(y, direct, rtol=1e-12)
    check_gradients(lambda x, w, b: F.conv1d(x, w, b, stride, padding, dilation, groups), [x, w, b], rng)


def test_pad_is_torch_pad_and_crops_back(rng):
    x = rng.standard_normal((2, 3, 4))
    y = F.pad(x, (1, 2, 0, 3))
    assert y.shape == (2, 6, 7)
    np.testing.assert_array_equal(y[:, 0:3, 1:5], x)
    assert y.sum() == pytest.approx(x.sum())
    check_gradients(lambda x: F.pad(x, (1, 2, 0, 3), value=0.5), [x], rng)


def test_conv_errors_name_the_op_and_shapes():
    x = np.zeros((2, 4, 6, 6), np.float32)
    with pytest.raises(ValueError, match=r"groups: 3 must divide both the input channels \(4\) and the output "
                                         r"channels \(6\)"):
        F.conv2d(x, np.zeros((6, 1, 3, 3), np.float32), groups=3)
    with pytest.raises(ValueError, match=r"x has 4 channels but weight \(6, 1, 3, 3\) expects 2 \(in_channels / "
                                         r"groups = 1, groups = 2\)"):
        F.conv2d(x, np.zeros((6, 1, 3, 3), np.float32), groups=2)
    with pytest.raises(ValueError, match=r"conv2d: padding='same' is not supported for strided convolutions"):
        F.conv2d(x, np.zeros((4, 4, 3, 3), np.float32), stride=2, padding="same")
    with pytest.raises(ValueError, match=r"conv2d: padding must be an int, a pair, 'valid' or 'same', got 'full'"):
        F.conv2d(x, np.zeros((4, 4, 3, 3), np.float32), padding="full")
    with pytest.raises(ValueError, match=r"conv1d: expected input \(N, C, L\), got shape \(2, 4, 6, 6\)"):
        F.conv1d(x, np.zeros((4, 4, 3), np.float32))
    with pytest.raises(ValueError, match=r"conv1d: stride must be an int or a 1-tuple, got \(1, 2\)"):
        F.conv1d(x[:, :, 0], np.zeros((4, 4, 3), np.float32), stride=(1, 2))
    with pytest.raises(ValueError, match=r"pad: expected an even number"):
        F.pad(x, (1, 2, 3))


# ---- pooling --------------------------------------------------------------------------------------------------

POOLS = [  # shape, kernel, stride, padding, dilation, ceil_mode
    ((2, 3, 7, 7), (2, 2), (2, 2), (0, 0), (1, 1), True),
    ((1, 2, 8, 7), (3, 3), (2, 2), (1, 1), (1, 1), True),
    ((1, 2, 6, 9), (3, 2), (2, 3), (1, 0), (1, 1), False),
    ((2, 2, 9, 10), (3, 3), (1, 2), (1, 1), (2, 2), False),
    ((1, 3, 10, 9), (2, 3), (3, 2), (1, 1), (3, 2), True),
    ((1, 1, 5, 5), (3, 3), (3, 3), (1, 1), (1, 1), True),   # the ceil window would start in the right padding
]


@pytest.mark.parametrize("shape,kernel,stride,padding,dilation,ceil_mode", POOLS)
def test_max_pool_ceil_mode_and_dilation(rng, shape, kernel, stride, padding, dilation, ceil_mode):
    x = rng.standard_normal(shape)
    y, idx = F.max_pool2d(x, kernel, stride, padding, dilation, ceil_mode, return_indices=True)
    np.testing.assert_array_equal(y, ref_pool.max_pool2d_general(x, kernel, stride, padding, dilation, ceil_mode))
    np.testing.assert_array_equal(np.take_along_axis(x.reshape(shape[:2] + (-1,)), idx.reshape(shape[:2] + (-1,)), 2),
                                  y.reshape(shape[:2] + (-1,)))
    check_gradients(lambda x: F.max_pool2d(x, kernel, stride, padding, dilation, ceil_mode), [x], rng)


@pytest.mark.parametrize("shape,kernel,stride,padding,dilation,ceil_mode", [p for p in POOLS if p[4] == (1, 1)])
@pytest.mark.parametrize("count_include_pad", [True, False])
def test_avg_pool_ceil_mode(rng, shape, kernel, stride, padding, dilation, ceil_mode, count_include_pad):
    x = rng.standard_normal(shape)
    y = F.avg_pool2d(x, kernel, stride, padding, ceil_mode, count_include_pad)
    np.testing.assert_allclose(y, ref_pool.avg_pool2d_general(x, kernel, stride, padding, ceil_mode,
                                                               count_include_pad), rtol=1e-12)
    check_gradients(lambda x: F.avg_pool2d(x, kernel, stride, padding, ceil_mode, count_include_pad), [x], rng)


def test_ceil_mode_output_sizes_follow_pytorchs_rule():
    x = np.zeros((1, 1, 5, 5))
    assert F.max_pool2d(x, 2, ceil_mode=True).shape == (1, 1, 3, 3)
    assert F.max_pool2d(x, 2).shape == (1, 1, 2, 2)
    # ceil((5 + 2 - 3) / 3) + 1 = 3, but the third window would start at 6 - 1 = 5 >= 5 + 1 - 1: dropped
    assert F.max_pool2d(x, 3, 3, 1, ceil_mode=True).shape == (1, 1, 2, 2)
    assert F.avg_pool2d(np.zeros((1, 1, 6, 6)), 4, 3, ceil_mode=True).shape == (1, 1, 2, 2)


@pytest.mark.parametrize("kernel,stride,padding,dilation,ceil_mode", [(3, 2, 1, 1, False), (2, None, 0, 1, True),
                                                                      (3, 1, 1, 2, False)])
def test_1d_pools_are_2d_pools_of_unit_height(rng, kernel, stride, padding, dilation, ceil_mode):
    x = rng.standard_normal((2, 3, 11))
    y, idx = F.max_pool1d(x, kernel, stride, padding, dilation, ceil_mode, return_indices=True)
    s2 = None if stride is None else (1, stride)
    y2, idx2 = F.max_pool2d(x[:, :, None], (1, kernel), s2, (0, padding), (1, dilation), ceil_mode, True)
    np.testing.assert_array_equal(y, y2[:, :, 0])
    np.testing.assert_array_equal(idx, idx2[:, :, 0])  # positions along L
    check_gradients(lambda x: F.max_pool1d(x, kernel, stride, padding, dilation, ceil_mode), [x], rng)
    if dilation == 1:
        a = F.avg_pool1d(x, kernel, stride, padding, ceil_mode, False)
        np.testing.assert_array_equal(a, F.avg_pool2d(x[:, :, None], (1, kernel), s2, (0, padding), ceil_mode,
                                                      False)[:, :, 0])
        check_gradients(lambda x: F.avg_pool1d(x, kernel, stride, padding, ceil_mode), [x], rng)


@pytest.mark.parametrize("shape,out", [((2, 3, 7, 9), (3, 4)), ((1, 2, 5, 5), 3), ((2, 2, 8, 6), (4, 2)),
                                       ((2, 2, 6, 6), 1), ((3, 5, 4), (None, 3)), ((1, 1, 3, 2), (5, 7))])
def test_adaptive_avg_pool_uses_pytorchs_windows(rng, shape, out):
    x = rng.standard_normal(shape)
    oh, ow = (out, out) if isinstance(out, int) else out
    oh, ow = shape[-2] if oh is None else oh, shape[-1] if ow is None else ow
    y = F.adaptive_avg_pool2d(x, out)
    assert y.shape == shape[:-2] + (oh, ow)
    np.testing.assert_allclose(y, ref_pool.adaptive_avg_pool2d(x, oh, ow), rtol=1e-12)
    check_gradients(lambda x: F.adaptive_avg_pool2d(x, out), [x], rng)


def test_pool_errors_name_the_op():
    x = np.zeros((1, 2, 6, 6), np.float32)
    with pytest.raises(ValueError, match=r"max_pool2d: with dilation \(5, 5\) some window of the 4x4 input covers "
                                         r"only padding"):
        F.max_pool2d(x[:, :, :4, :4].copy(), 2, 1, 1, dilation=5)  # taps at -1 and 4
    with pytest.raises(ValueError, match=r"max_pool1d: expected input \(N, C, L\), got shape \(1, 2, 6, 6\)"):
        F.max_pool1d(x, 2)
    with pytest.raises(ValueError, match=r"adaptive_avg_pool2d: output_size must be positive"):
        F.adaptive_avg_pool2d(x, 0)
    with pytest.raises(ValueError, match=r"adaptive_avg_pool2d: expected input \(N, C, H, W\) or \(C, H, W\)"):
        F.adaptive_avg_pool2d(x[0, 0], 2)
    with pytest.raises(ValueError, match=r"kernel_size: expected an int or a 1-tuple, got \(2, 2\)"):
        F.avg_pool1d(x[0], (2, 2))
