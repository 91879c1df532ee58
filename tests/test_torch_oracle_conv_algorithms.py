"""conv2d by each algorithm (im2col, Winograd) and the fused BatchNorm+ReLU+MaxPool against PyTorch in float32:
forward, input gradient and parameter gradients, under every instruction set. Oracle tests: marked `torch`
(tests/conftest.py); the tolerance is explained in tests/torch_oracle.py."""

import numpy as np
import pytest

from conftest import import_torch

pytestmark = pytest.mark.torch
torch = import_torch()

from nntrain import functional as F  # noqa: E402

from torch_oracle import assert_close  # noqa: E402


# (N, C, H, W, OC, padding): the cnn preset's second layer, and odd sizes with a batch of 17
@pytest.mark.parametrize("shape", [(64, 32, 14, 14, 64, 1), (17, 5, 9, 7, 6, 0)])
@pytest.mark.parametrize("algorithm", ["im2col", "winograd"])
def test_conv2d_matches_torch(rng, isa, shape, algorithm):
    n, c, h, w, oc, pad = shape
    x = rng.standard_normal((n, c, h, w)).astype(np.float32)
    weight = (rng.standard_normal((oc, c, 3, 3)) / np.sqrt(9 * c)).astype(np.float32)
    bias = rng.standard_normal(oc).astype(np.float32)
    y = F.conv2d(x, weight, bias, padding=pad, algorithm=algorithm)
    dout = rng.standard_normal(y.shape).astype(np.float32)
    dx, dw, db = F.conv2d_backward(dout, x, weight, bias, padding=pad, algorithm=algorithm)
    tx, tw, tb = (torch.from_numpy(a.copy()).requires_grad_() for a in (x, weight, bias))
    ty = torch.nn.functional.conv2d(tx, tw, tb, padding=pad)
    ty.backward(torch.from_numpy(dout))
    assert_close(y, ty.detach().numpy(), "y")
    assert_close(dx, tx.grad.numpy(), "dx")
    assert_close(dw, tw.grad.numpy(), "dweight")
    assert_close(db, tb.grad.numpy(), "dbias")


@pytest.mark.parametrize("shape", [(64, 32, 28, 28), (3, 4, 7, 9)])
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_relu_max_pool2d_matches_torch(rng, shape, training):
    c = shape[1]
    x = rng.standard_normal(shape).astype(np.float32)
    weight, bias = rng.standard_normal(c).astype(np.float32), rng.standard_normal(c).astype(np.float32)
    rm, rv = rng.standard_normal(c).astype(np.float32), rng.uniform(0.5, 2, c).astype(np.float32)
    trm, trv = torch.from_numpy(rm.copy()), torch.from_numpy(rv.copy())
    out, mean, invstd, code = F.batch_norm_relu_max_pool2d(x, rm, rv, weight, bias, training, return_stats=True)
    dout = rng.standard_normal(out.shape).astype(np.float32)
    dx, dw, db = F.batch_norm_relu_max_pool2d_backward(dout, x, weight, mean, invstd, code, training)
    tx, tw, tb = (torch.from_numpy(a.copy()).requires_grad_() for a in (x, weight, bias))
    ty = torch.nn.functional.max_pool2d(
        torch.relu(torch.nn.functional.batch_norm(tx, trm, trv, tw, tb, training, 0.1, 1e-5)), 2)
    ty.backward(torch.from_numpy(dout))
    assert_close(out, ty.detach().numpy(), "out")
    assert_close(rm, trm.numpy(), "running_mean")
    assert_close(rv, trv.numpy(), "running_var")
    assert_close(dx, tx.grad.numpy(), "dx")
    assert_close(dw, tw.grad.numpy(), "dweight")
    assert_close(db, tb.grad.numpy(), "dbias")
