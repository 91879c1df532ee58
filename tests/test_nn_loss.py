"""nn.L1Loss (NumPy): value against the oracle, gradient against central differences and PyTorch."""

import numpy as np
import pytest

from nntrain import nn

from reference import loss as ref
from reference.numgrad import check_backward


def test_l1_loss_matches_numpy_and_central_differences(rng):
    pred, target = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    loss = nn.L1Loss()
    assert loss(pred, target) == pytest.approx(ref.l1(pred, target), rel=1e-12)
    grad = loss.backward(2.0)
    check_backward(lambda: 2.0 * nn.L1Loss()(pred, target), {"pred": pred}, {"pred": grad})


def test_l1_loss_keeps_float32_and_takes_zero_gradient_where_equal():
    pred = np.array([[1.0], [2.0]], np.float32)
    loss = nn.L1Loss()
    assert loss(pred, np.array([[1.0], [0.0]])) == 1.0
    grad = loss.backward()
    assert grad.dtype == np.float32
    np.testing.assert_array_equal(grad, [[0.0], [0.5]])


def test_l1_loss_refuses_a_target_of_another_shape():
    with pytest.raises(ValueError, match=r"target: shape \(2,\) does not match pred \(2, 1\)"):
        nn.L1Loss()(np.zeros((2, 1), np.float32), np.zeros(2))


@pytest.mark.torch
def test_l1_loss_matches_pytorch(rng):
    torch = pytest.importorskip("torch")
    pred, target = rng.standard_normal((7, 2)).astype(np.float32), rng.standard_normal((7, 2)).astype(np.float32)
    t_pred = torch.tensor(pred, requires_grad=True)
    t_loss = torch.nn.L1Loss()(t_pred, torch.tensor(target))
    t_loss.backward()
    loss = nn.L1Loss()
    assert loss(pred, target) == pytest.approx(t_loss.item(), rel=1e-6)
    np.testing.assert_allclose(loss.backward(), t_pred.grad.numpy(), rtol=1e-6)
