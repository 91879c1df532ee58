"""Fused softmax-cross-entropy and MSE: values, gradients, stability, label checks."""

import numpy as np
import pytest

from nntrain import functional as F

from conftest import num_threads
from reference import loss as ref
from reference.numgrad import check_backward

# Every test runs once per instruction set the CPU offers: the elementwise kernels are compiled for each.
pytestmark = pytest.mark.usefixtures("isa")


@pytest.mark.parametrize("N,C", [(1, 1), (1, 2), (7, 10), (64, 3), (5, 1001)])
@pytest.mark.parametrize("ls", [0.0, 0.1])
def test_cross_entropy_matches_numpy(rng, N, C, ls):
    logits = (rng.standard_normal((N, C)) * 4).astype(np.float32)
    labels = rng.integers(0, C, N)
    loss, probs = F.cross_entropy(logits, labels, label_smoothing=ls, return_probs=True)
    assert loss == pytest.approx(ref.cross_entropy(logits, labels, ls), rel=1e-5, abs=1e-6)
    np.testing.assert_allclose(probs.sum(axis=1), 1, rtol=1e-5)
    np.testing.assert_allclose(F.cross_entropy_backward(probs, labels, ls), ref.cross_entropy_grad(logits, labels, ls),
                               rtol=1e-4, atol=1e-7)


def test_soft_targets_equal_one_hot_labels(rng):
    logits = rng.standard_normal((6, 4))
    labels = rng.integers(0, 4, 6)
    one_hot = np.eye(4)[labels]
    assert F.cross_entropy(logits, one_hot, label_smoothing=0.2) == pytest.approx(F.cross_entropy(logits, labels, label_smoothing=0.2), rel=1e-14)
    _, p = F.cross_entropy(logits, labels, return_probs=True)
    np.testing.assert_allclose(F.cross_entropy_backward(p, one_hot, 0.2), F.cross_entropy_backward(p, labels, 0.2),
                               rtol=1e-14)
    soft = rng.dirichlet(np.ones(4), 6)
    assert F.cross_entropy(logits, soft) == pytest.approx(ref.cross_entropy(logits, soft), rel=1e-12)


@pytest.mark.parametrize("ls", [0.0, 0.3])
@pytest.mark.parametrize("soft", [False, True])
def test_cross_entropy_gradient_matches_central_differences(rng, ls, soft):
    logits = rng.standard_normal((4, 5))
    target = rng.dirichlet(np.ones(5), 4) if soft else rng.integers(0, 5, 4)
    _, p = F.cross_entropy(logits, target, label_smoothing=ls, return_probs=True)
    check_backward(lambda: 2.5 * F.cross_entropy(logits, target, label_smoothing=ls), {"logits": logits},
                   {"logits": F.cross_entropy_backward(p, target, ls, grad=2.5)})


def test_cross_entropy_is_stable_for_logits_of_1e4():
    logits = np.array([[1e4, -1e4, 0], [-1e4, 1e4, 1e4]], np.float32)
    loss, p = F.cross_entropy(logits, [0, 0], return_probs=True)
    assert np.isfinite(loss) and loss == pytest.approx((2e4 + np.log(2)) / 2, rel=1e-6)
    g = F.cross_entropy_backward(p, [0, 0])
    assert np.all(np.isfinite(g))
    np.testing.assert_allclose(g, [[0, 0, 0], [-0.5, 0.25, 0.25]], atol=1e-7)


def test_labels_out_of_range_and_bad_targets_are_errors():
    logits = np.zeros((3, 4), np.float32)
    with pytest.raises(ValueError, match=r"target: label 4 at index 2 is outside \[0, 4\)"):
        F.cross_entropy(logits, [0, 1, 4])
    with pytest.raises(ValueError, match=r"label -1 at index 0"):
        F.cross_entropy(logits, [-1, 1, 2])
    with pytest.raises(ValueError, match=r"cross_entropy: input of shape \(3, 4\) needs a target of shape \(3,\) "
                                         r"\(class indices\) or \(3, 4\) \(class probabilities\), got \(2,\)"):
        F.cross_entropy(logits, [0, 1])
    with pytest.raises(ValueError, match=r"needs a target of shape \(3,\) .* got \(3, 5\)"):
        F.cross_entropy(logits, np.zeros((3, 5), np.float32))
    with pytest.raises(ValueError, match="target: expected a float32 array, got float64"):
        F.cross_entropy(logits, np.zeros((3, 4)))
    with pytest.raises(ValueError, match="label_smoothing"):
        F.cross_entropy(logits, [0, 1, 2], label_smoothing=1.5)
    with pytest.raises(ValueError, match=r"input of shape \(4,\) needs a target of shape \(\) .* got \(1,\)"):
        F.cross_entropy(np.zeros(4, np.float32), [0])
    # a scalar label for a batch of one is a shape error, not silently a (1,) array
    with pytest.raises(ValueError, match=r"cross_entropy: input of shape \(1, 4\) needs a target of shape \(1,\) .* got \(\)"):
        F.cross_entropy(np.zeros((1, 4), np.float32), np.int64(2))


def test_empty_batch_gives_nan_loss_and_no_gradient():
    loss, p = F.cross_entropy(np.zeros((0, 3), np.float32), np.zeros(0, np.int64), return_probs=True)
    assert np.isnan(loss)
    assert F.cross_entropy_backward(p, np.zeros(0, np.int64)).shape == (0, 3)


@pytest.mark.parametrize("shape", [(1,), (5, 3), (2, 3, 4), (100_003,)])
def test_mse_matches_numpy(rng, shape):
    pred = rng.standard_normal(shape).astype(np.float32)
    target = rng.standard_normal(shape).astype(np.float32)
    assert F.mse_loss(pred, target) == pytest.approx(ref.mse(pred, target), rel=1e-6)
    np.testing.assert_allclose(F.mse_loss_backward(pred, target, 3.0),
                               3.0 * 2 * (pred.astype(np.float64) - target) / pred.size, rtol=1e-5)


def test_mse_gradient_matches_central_differences(rng):
    pred, target = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    check_backward(lambda: F.mse_loss(pred, target), {"pred": pred}, {"pred": F.mse_loss_backward(pred, target)})


def test_mse_shape_mismatch():
    with pytest.raises(ValueError, match=r"mse_loss: target of shape \(3,\) does not match input of shape \(4,\)"):
        F.mse_loss(np.zeros(4, np.float32), np.zeros(3, np.float32))


def test_thread_count_does_not_change_results(rng):
    logits = rng.standard_normal((512, 100)).astype(np.float32)
    labels = rng.integers(0, 100, 512)
    runs = []
    for n in (1, 2):
        with num_threads(n):
            loss, p = F.cross_entropy(logits, labels, label_smoothing=0.1, return_probs=True)
            runs.append((loss, p, F.cross_entropy_backward(p, labels, 0.1), F.mse_loss(logits, logits[::-1].copy())))
    assert runs[0][0] == runs[1][0] and runs[0][3] == runs[1][3]
    np.testing.assert_array_equal(runs[0][1], runs[1][1])
    np.testing.assert_array_equal(runs[0][2], runs[1][2])


def test_backwards_write_a_new_gradient_and_add_into_a_given_one(rng):
    # No buffer: the kernels write a new array, an ignored row's zeros too, whatever memory it reuses (the
    # NaN-filled array just freed is what the allocator hands out next); a given buffer is added into.
    logits = rng.standard_normal((3000, 10)).astype(np.float32)
    labels = rng.integers(0, 10, 3000)
    labels[::7] = -100  # ignored rows
    _, probs = F.cross_entropy(logits, labels, return_probs=True)
    pred = rng.standard_normal((300, 100)).astype(np.float32)
    target = rng.standard_normal(pred.shape).astype(np.float32)
    cases = [(lambda **kw: F.cross_entropy_backward(probs, labels, **kw), "dlogits", probs.shape),
             (lambda **kw: F.mse_loss_backward(pred, target, **kw), "dpred", pred.shape)]
    for backward, name, shape in cases:
        want = backward().copy()
        for _ in range(3):
            poison = np.full(shape, np.nan, np.float32)
            del poison
            np.testing.assert_array_equal(backward(), want)
        acc = np.ones(shape, np.float32)
        assert backward(**{name: acc}) is acc
        np.testing.assert_allclose(acc, 1 + want, rtol=1e-6, atol=1e-7)
        assert backward(**{name: False}) is None
    np.testing.assert_array_equal(cases[0][0]()[::7], 0)
