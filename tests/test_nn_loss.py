"""L1 loss (NumPy forward and backward): value against the oracle, gradient against central differences,
through the tape and on plain arrays. (Against PyTorch: tests/test_torch_oracle_layers.py.)"""

import numpy as np
import pytest

import nntrain
from nntrain import functional as F
from nntrain import nn

from reference import loss as ref
from reference.numgrad import check_backward


def test_l1_loss_matches_numpy_and_central_differences(rng):
    pred, target = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    assert F.l1_loss(pred, target) == pytest.approx(ref.l1(pred, target), rel=1e-12)
    x = nntrain.tensor(pred, requires_grad=True)
    (2.0 * F.l1_loss(x, target)).backward()
    check_backward(lambda: 2.0 * F.l1_loss(pred, target), {"pred": pred}, {"pred": x.grad})


def test_the_module_records_on_the_tape_and_takes_zero_gradient_where_equal():
    pred = nntrain.tensor(np.array([[1.0], [2.0]], np.float32), requires_grad=True)
    loss = nn.L1Loss()(pred, np.array([[1.0], [0.0]]))
    assert float(loss) == 1.0
    loss.backward()
    assert pred.grad.dtype == np.float32
    np.testing.assert_array_equal(pred.grad, [[0.0], [0.5]])
    assert nn.L1Loss()(np.zeros((2, 2), np.float32), np.ones((2, 2))) == 1.0  # arrays in: a float out


def test_l1_loss_refuses_a_target_of_another_shape():
    with pytest.raises(ValueError, match=r"l1_loss: target of shape \(2,\) does not match input of shape \(2, 1\)"):
        nn.L1Loss()(np.zeros((2, 1), np.float32), np.zeros(2))
