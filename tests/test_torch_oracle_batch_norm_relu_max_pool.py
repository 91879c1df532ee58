"""The fused BatchNorm + ReLU + 2x2 max-pool against PyTorch's three modules in float32, training and evaluation,
forward and every gradient, under every instruction set. Oracle tests: marked `torch` (tests/conftest.py); the
tolerance is explained in tests/torch_oracle.py."""

import numpy as np
import pytest

from conftest import import_torch

pytestmark = pytest.mark.torch
torch = import_torch()

from nntrain import functional as F  # noqa: E402

from torch_oracle import assert_close  # noqa: E402


def separated_windows(rng, shape):
    """Images whose 2x2 windows hold four values a whole unit apart (a random order of 0..3, plus noise of 0.1):
    normalised, no two are near enough for the libraries' different roundings to pick different maxima."""
    n, c, h, w = shape
    x = rng.standard_normal(shape)
    ranks = np.argsort(rng.random((n, c, h // 2, w // 2, 4)), axis=-1)
    for k in range(4):
        noise = 0.1 * rng.standard_normal(ranks.shape[:4])
        x[:, :, k // 2:2 * (h // 2):2, k % 2:2 * (w // 2):2] = ranks[..., k] + noise
    return x.astype(np.float32)


@pytest.mark.parametrize("shape", [(64, 32, 28, 28), (17, 5, 9, 7)])
@pytest.mark.parametrize("training", [True, False])
def test_matches_torch(rng, isa, shape, training):
    c = shape[1]
    x = separated_windows(rng, shape)
    weight, bias = rng.standard_normal(c).astype(np.float32), rng.standard_normal(c).astype(np.float32)
    running_mean, running_var = rng.standard_normal(c).astype(np.float32), rng.uniform(0.5, 2, c).astype(np.float32)
    bn = torch.nn.BatchNorm2d(c)
    with torch.no_grad():
        bn.weight.copy_(torch.from_numpy(weight))
        bn.bias.copy_(torch.from_numpy(bias))
        bn.running_mean.copy_(torch.from_numpy(running_mean))
        bn.running_var.copy_(torch.from_numpy(running_var))
    bn.train(training)
    tx = torch.from_numpy(x.copy()).requires_grad_()
    ty = torch.nn.functional.max_pool2d(torch.relu(bn(tx)), 2)

    out, window, mean, invstd = F.batch_norm_relu_max_pool2d(x, running_mean, running_var, weight, bias, training,
                                                             return_stats=True)
    dout = rng.standard_normal(out.shape).astype(np.float32)
    ty.backward(torch.from_numpy(dout))
    dx, dw, db = F.batch_norm_relu_max_pool2d_backward(dout, out, window, x, weight, mean, invstd, training)
    assert_close(out, ty.detach().numpy(), "out")
    assert_close(running_mean, bn.running_mean.numpy(), "running_mean")
    assert_close(running_var, bn.running_var.numpy(), "running_var")
    assert_close(dx, tx.grad.numpy(), "dx")
    assert_close(dw, bn.weight.grad.numpy(), "dweight")
    assert_close(db, bn.bias.grad.numpy(), "dbias")
