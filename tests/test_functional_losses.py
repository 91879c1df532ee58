"""Losses: cross_entropy (weights, ignore_index, reductions, (N, C, d...) inputs, probability targets, label
smoothing), nll_loss, mse/l1/smooth_l1, binary_cross_entropy_with_logits -- NumPy oracles for the values,
central differences for the gradients (of the input and of the target), one-line errors."""

import numpy as np
import pytest

import nntrain
from nntrain import functional as F
from nntrain._tensor import Tensor

from conftest import num_threads
from reference import loss as ref
from reference.gradcheck import check_gradients

SHAPES = [((6, 4), (6,)), ((3, 5, 4), (3, 4)), ((2, 3, 2, 3), (2, 2, 3)), ((5,), ())]


def labels(rng, classes, shape, ignore=None):
    y = rng.integers(0, classes, shape)
    if ignore is not None and y.size:
        y.reshape(-1)[:: 3] = ignore
    return y


@pytest.mark.parametrize("shape,target_shape", SHAPES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ls", [0.0, 0.25])
def test_cross_entropy_matches_the_definition(rng, shape, target_shape, reduction, weighted, ls):
    classes = shape[0] if len(shape) == 1 else shape[1]
    x = rng.standard_normal(shape) * 3
    y = labels(rng, classes, target_shape, ignore=-100 if target_shape else None)
    w = rng.uniform(0.5, 2.0, classes) if weighted else None
    got = F.cross_entropy(x, y, w, reduction=reduction, label_smoothing=ls)
    np.testing.assert_allclose(got, ref.cross_entropy_full(x, y, w, -100, reduction, ls), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("shape,target_shape", SHAPES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_gradient_matches_central_differences(rng, shape, target_shape, reduction):
    classes = shape[0] if len(shape) == 1 else shape[1]
    y = labels(rng, classes, target_shape, ignore=-100 if target_shape else None)
    w = rng.uniform(0.5, 2.0, classes)
    check_gradients(lambda x: F.cross_entropy(x, y, w, reduction=reduction, label_smoothing=0.1),
                    [rng.standard_normal(shape)], rng)


@pytest.mark.parametrize("shape", [(4, 3), (2, 3, 5), (3,)])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_probability_targets_value_and_gradients_of_input_and_target(rng, shape, reduction):
    axis = 0 if len(shape) == 1 else 1
    t = rng.dirichlet(np.ones(shape[axis]), int(np.prod(shape)) // shape[axis])
    t = np.moveaxis(t.reshape((shape[0],) + shape[2:] + (shape[1],)), -1, 1) if len(shape) > 1 else t[0]
    w = rng.uniform(0.5, 2.0, shape[axis])
    x = rng.standard_normal(shape)
    np.testing.assert_allclose(F.cross_entropy(x, t, w, reduction=reduction, label_smoothing=0.2),
                               ref.cross_entropy_full(x, t, w, reduction=reduction, label_smoothing=0.2), rtol=1e-12)
    check_gradients(lambda x, t: F.cross_entropy(x, t, w, reduction=reduction, label_smoothing=0.2),
                    [x, np.ascontiguousarray(t)], rng)


def test_weighted_mean_divides_by_the_weights_of_the_counted_targets():
    x = np.zeros((3, 2))
    w = np.array([1.0, 3.0])
    # every row has loss log 2 (uniform softmax) times its class weight: (1 + 3) log 2 / (1 + 3), the ignored
    # row counting nowhere
    assert F.cross_entropy(x, np.array([0, 1, -100]), w) == pytest.approx(np.log(2))
    assert F.cross_entropy(x, np.array([0, 1, -100]), w, reduction="sum") == pytest.approx(4 * np.log(2))
    assert np.isnan(F.cross_entropy(x, np.array([-100, -100, -100])))
    assert F.cross_entropy(x, np.array([0, 1, 1]), ignore_index=1) == pytest.approx(np.log(2))


def test_ignored_rows_get_no_gradient(rng):
    x = Tensor(rng.standard_normal((4, 3)), requires_grad=True)
    F.cross_entropy(x, np.array([0, 7, 2, 7]), ignore_index=7, label_smoothing=0.3).backward()
    assert np.all(x.grad[[1, 3]] == 0) and np.all(x.grad[[0, 2]] != 0)


def test_plain_mean_is_the_fused_kernel_result_and_explicit_backward_agrees(rng):
    logits = rng.standard_normal((8, 5)).astype(np.float32)
    y = rng.integers(0, 5, 8)
    loss, probs = F.cross_entropy(logits, y, return_probs=True)
    t = Tensor(logits.copy(), requires_grad=True)
    tape_loss = F.cross_entropy(t, y)
    tape_loss.backward()
    assert tape_loss.item() == pytest.approx(loss, rel=1e-7)
    np.testing.assert_allclose(t.grad, F.cross_entropy_backward(probs, y), rtol=1e-6)
    w = rng.uniform(0.5, 2, 5).astype(np.float32)
    _, probs = F.cross_entropy(logits, y, w, reduction="sum", return_probs=True)
    t.grad = None
    F.cross_entropy(t, y, w, reduction="sum").backward()
    np.testing.assert_allclose(t.grad, F.cross_entropy_backward(probs, y, weight=w, reduction="sum"), rtol=1e-6)


def test_return_probs_come_back_in_the_input_layout(rng):
    x = rng.standard_normal((2, 4, 3))
    _, p = F.cross_entropy(x, rng.integers(0, 4, (2, 3)), return_probs=True)
    np.testing.assert_allclose(p, np.exp(x) / np.exp(x).sum(axis=1, keepdims=True), rtol=1e-12)


def test_cross_entropy_results_do_not_depend_on_threads(rng):
    x = rng.standard_normal((2048, 20)).astype(np.float32)
    y = labels(rng, 20, 2048, ignore=3)
    w = rng.uniform(0.5, 2, 20).astype(np.float32)
    runs = []
    for n in (1, 2):
        with num_threads(n):
            t = Tensor(x.copy(), requires_grad=True)
            loss = F.cross_entropy(t, y, w, ignore_index=3, label_smoothing=0.1)
            loss.backward()
            runs.append((loss.item(), t.grad))
    assert runs[0][0] == runs[1][0]
    np.testing.assert_array_equal(runs[0][1], runs[1][1])


def test_cross_entropy_errors_name_the_op_and_shapes():
    x = np.zeros((3, 4), np.float32)
    with pytest.raises(ValueError, match=r"cross_entropy: weight of shape \(3,\) needs one entry per class, \(4,\)"):
        F.cross_entropy(x, [0, 1, 2], np.ones(3, np.float32))
    with pytest.raises(ValueError, match=r"cross_entropy: reduction must be 'mean', 'sum' or 'none', got 'avg'"):
        F.cross_entropy(x, [0, 1, 2], reduction="avg")
    with pytest.raises(ValueError, match=r"input of shape \(2, 4, 5\) needs a target of shape \(2, 5\)"):
        F.cross_entropy(np.zeros((2, 4, 5), np.float32), np.zeros((2, 4), np.int64))
    with pytest.raises(ValueError, match=r"target: label 4 at index 2 is outside \[0, 4\)"):
        F.cross_entropy(x, [0, 1, 4], ignore_index=-1)
    with pytest.raises(TypeError, match="pass label_smoothing=... by name"):
        F.cross_entropy(x, [0, 1, 2], 0.1)
    with pytest.raises(ValueError, match=r"label_smoothing must be in \[0, 1\]"):
        F.cross_entropy(x, [0, 1, 2], label_smoothing=-0.5)


# ---- nll_loss ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape,target_shape", SHAPES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_nll_of_log_softmax_is_cross_entropy(rng, shape, target_shape, reduction):
    classes = shape[0] if len(shape) == 1 else shape[1]
    x = rng.standard_normal(shape)
    y = labels(rng, classes, target_shape, ignore=-100 if target_shape else None)
    w = rng.uniform(0.5, 2, classes)
    logp = F.log_softmax(x, dim=0 if len(shape) == 1 else 1)
    np.testing.assert_allclose(F.nll_loss(logp, y, w, reduction=reduction),
                               F.cross_entropy(x, y, w, reduction=reduction), rtol=1e-12, atol=1e-14)
    check_gradients(lambda lp: F.nll_loss(lp, y, w, reduction=reduction), [logp], rng)


def test_nll_errors():
    with pytest.raises(IndexError, match="nll_loss: target 5 at index 1 is out of bounds for 4 classes"):
        F.nll_loss(np.zeros((2, 4)), np.array([0, 5]))
    with pytest.raises(ValueError, match="nll_loss: target must hold class indices"):
        F.nll_loss(np.zeros((2, 4)), np.zeros((2, 4)))


# ---- elementwise losses -------------------------------------------------------------------------------------------

ELEMENTWISE = {
    "mse": (F.mse_loss, lambda x, y, r: ref.reduce((x - y) ** 2, r)),
    "l1": (F.l1_loss, lambda x, y, r: ref.reduce(np.abs(x - y), r)),
    "smooth_l1": (lambda x, y, r: F.smooth_l1_loss(x, y, r, beta=0.7), lambda x, y, r: ref.smooth_l1(x, y, 0.7, r)),
    "smooth_l1-beta0": (lambda x, y, r: F.smooth_l1_loss(x, y, r, beta=0.0), lambda x, y, r: ref.smooth_l1(x, y, 0, r)),
    "bce": (lambda x, y, r: F.binary_cross_entropy_with_logits(x, y, reduction=r),
            lambda x, y, r: ref.bce_with_logits(x, y, reduction=r)),
}


@pytest.mark.parametrize("name", list(ELEMENTWISE))
@pytest.mark.parametrize("shape", [(7,), (3, 4), (2, 3, 5)])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_elementwise_losses_match_numpy_and_central_differences(rng, name, shape, reduction):
    op, oracle = ELEMENTWISE[name]
    x = rng.standard_normal(shape) * 2
    y = rng.uniform(0, 1, shape) if name == "bce" else rng.standard_normal(shape)
    np.testing.assert_allclose(op(x, y, reduction), oracle(x, y, reduction), rtol=1e-12, atol=1e-14)
    check_gradients(lambda x, y: op(x, y, reduction), [x, y], rng)


def test_bce_weights_and_pos_weight(rng):
    x, y = rng.standard_normal((5, 3)) * 3, rng.uniform(0, 1, (5, 3))
    w, pw = rng.uniform(0.5, 2, (5, 1)), rng.uniform(0.5, 3, 3)
    for reduction in ("mean", "sum", "none"):
        np.testing.assert_allclose(F.binary_cross_entropy_with_logits(x, y, w, reduction, pw),
                                   ref.bce_with_logits(x, y, w, pw, reduction), rtol=1e-12)
        check_gradients(lambda x, y: F.binary_cross_entropy_with_logits(x, y, w, reduction, pw), [x, y], rng)


def test_bce_with_logits_is_stable_for_huge_logits():
    x = np.array([1e4, -1e4, 50.0, -50.0], np.float32)
    y = np.array([1.0, 0.0, 0.0, 1.0], np.float32)
    loss = F.binary_cross_entropy_with_logits(x, y, reduction="none")
    np.testing.assert_allclose(loss, [0, 0, 50, 50], atol=1e-6)
    t = Tensor(x, requires_grad=True)
    F.binary_cross_entropy_with_logits(t, y, reduction="sum").backward()
    np.testing.assert_allclose(t.grad, [0, 0, 1, -1], atol=1e-6)


def test_arrays_give_floats_for_scalar_reductions_and_arrays_for_none(rng):
    x, y = rng.standard_normal(4).astype(np.float32), rng.standard_normal(4).astype(np.float32)
    assert isinstance(F.l1_loss(x, y), float) and isinstance(F.mse_loss(x, y, "sum"), float)
    assert F.smooth_l1_loss(x, y, "none").shape == (4,) and F.smooth_l1_loss(x, y, "none").dtype == np.float32
    out = F.mse_loss(Tensor(x, requires_grad=True), y)
    assert isinstance(out, Tensor) and out.shape == () and out.dtype == np.float32


def test_mse_sum_is_the_kernel_mean_times_n(rng):
    x, y = rng.standard_normal((5, 6)), rng.standard_normal((5, 6))
    assert F.mse_loss(x, y, "sum") == pytest.approx(((x - y) ** 2).sum(), rel=1e-14)


def test_elementwise_loss_errors():
    with pytest.raises(ValueError, match=r"l1_loss: target of shape \(3,\) does not match input of shape \(3, 1\)"):
        F.l1_loss(np.zeros((3, 1)), np.zeros(3))
    with pytest.raises(ValueError, match=r"binary_cross_entropy_with_logits: target size \(2,\) must be the same as "
                                         r"input size \(3,\)"):
        F.binary_cross_entropy_with_logits(np.zeros(3), np.zeros(2))
    with pytest.raises(ValueError, match=r"pos_weight of shape \(2,\) does not broadcast to the input's \(4, 3\)"):
        F.binary_cross_entropy_with_logits(np.zeros((4, 3)), np.zeros((4, 3)), pos_weight=np.ones(2))
    with pytest.raises(TypeError, match="binary_cross_entropy_with_logits: weight must be an array of weights, got "
                                        "'sum'; pass reduction=... by name"):
        F.binary_cross_entropy_with_logits(np.zeros(3), np.zeros(3), "sum")
    with pytest.raises(ValueError, match="smooth_l1_loss: beta must be >= 0"):
        F.smooth_l1_loss(np.zeros(3), np.zeros(3), beta=-1)
    with pytest.raises(ValueError, match="mse_loss: reduction must be"):
        F.mse_loss(np.zeros(3), np.zeros(3), reduction="mean ")


def test_a_loss_used_twice_accumulates_both_contributions(rng):
    x = Tensor(rng.standard_normal((3, 4)), requires_grad=True)
    y = rng.integers(0, 4, 3)
    (F.cross_entropy(x, y) + F.cross_entropy(x * 2.0, y)).backward()
    t1 = Tensor(x.data.copy(), requires_grad=True)
    F.cross_entropy(t1, y).backward()
    t2 = Tensor(x.data.copy(), requires_grad=True)
    F.cross_entropy(t2 * 2.0, y).backward()
    np.testing.assert_allclose(x.grad, t1.grad + t2.grad, rtol=1e-12)
    assert nntrain.is_grad_enabled()


def test_a_0d_class_weight_is_refused_not_taken_as_one_class():
    logits, y = np.zeros((3, 1), np.float32), np.zeros(3, np.int64)
    with pytest.raises(ValueError, match=r"weight of shape \(\) needs one entry per class, \(1,\)"):
        F.cross_entropy(logits, y, weight=np.array(2.0, np.float32))
