"""conv2d by each algorithm (im2col, Winograd) against PyTorch in float32: forward, input gradient and parameter
gradients, under every instruction set. Oracle tests: marked `torch` (tests/conftest.py); the tolerance is
explained in tests/torch_oracle.py."""

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
