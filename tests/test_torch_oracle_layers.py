"""Every layer and loss against torch.nn with the same weights, in float32: the forward, the input gradient,
the parameter gradients, BatchNorm's running statistics, and three steps of nntrain's Adam against
torch.optim.Adam. Oracle tests: marked `torch` (tests/conftest.py); the tolerance is explained in
tests/torch_oracle.py."""

import copy

import numpy as np
import pytest

from conftest import import_torch

pytestmark = pytest.mark.torch
torch = import_torch()

import nntrain  # noqa: E402
from nntrain import nn, optim  # noqa: E402

from torch_oracle import assert_close, load_into_torch, state_from_torch, torch_twin  # noqa: E402


# ---- the only two functions that know how each library differentiates a layer ----------------------------
def forward_backward(layer, x, grad_out):
    """(y, dx, {parameter name: gradient}) of one nntrain layer for upstream gradient grad_out."""
    layer.zero_grad()
    xt = nntrain.tensor(x, requires_grad=True)
    y = layer(xt)
    y.backward(grad_out)
    return y.numpy(), xt.grad, {name: p.grad.copy() for name, p in layer.named_parameters()}


def torch_forward_backward(twin, x, grad_out):
    xt = torch.from_numpy(x.copy()).requires_grad_()
    twin.zero_grad()
    y = twin(xt)
    y.backward(torch.from_numpy(grad_out))
    return y.detach().numpy(), xt.grad.numpy(), {n: p.grad.numpy().copy() for n, p in twin.named_parameters()}


def batch_norm_in_eval(cls, shape, rng):
    """A BatchNorm whose running statistics have moved away from (0, 1), switched to evaluation."""
    bn = cls(shape[1], momentum=0.3)
    for _ in range(3):
        bn(rng.standard_normal(shape).astype(np.float32) * 2 + 1)
    for p in bn.parameters():
        p.data[...] = rng.standard_normal(p.shape)
    return bn.eval()


IMAGES = (3, 4, 9, 8)
# name: (builder(rng), input shape). Modules are in training mode unless the builder says otherwise.
LAYERS = {
    "Linear": (lambda r: nn.Linear(7, 5, rng=r), (6, 7)),
    "Linear-nobias": (lambda r: nn.Linear(7, 5, bias=False, rng=r), (6, 7)),
    "Conv2d": (lambda r: nn.Conv2d(4, 6, 3, padding=1, rng=r), IMAGES),
    "Conv2d-stride-padding-dilation": (
        lambda r: nn.Conv2d(4, 3, (3, 2), stride=(2, 1), padding=(1, 2), dilation=(1, 2), rng=r), IMAGES),
    "Conv2d-nobias-1x1-stride2": (lambda r: nn.Conv2d(4, 5, 1, stride=2, bias=False, rng=r), IMAGES),
    "MaxPool2d": (lambda r: nn.MaxPool2d(2), IMAGES),
    "MaxPool2d-overlap-padding": (lambda r: nn.MaxPool2d(3, stride=2, padding=1), IMAGES),
    "AvgPool2d": (lambda r: nn.AvgPool2d(2), IMAGES),
    "AvgPool2d-padding-include": (lambda r: nn.AvgPool2d(3, stride=2, padding=1), IMAGES),
    "AvgPool2d-padding-exclude": (lambda r: nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False), IMAGES),
    "Flatten": (lambda r: nn.Flatten(), IMAGES),
    "ReLU": (lambda r: nn.ReLU(), (5, 11)),
    "LeakyReLU": (lambda r: nn.LeakyReLU(0.2), (5, 11)),
    "ELU": (lambda r: nn.ELU(0.7), (5, 11)),
    "Sigmoid": (lambda r: nn.Sigmoid(), (5, 11)),
    "Tanh": (lambda r: nn.Tanh(), (5, 11)),
    "GELU": (lambda r: nn.GELU(), (5, 11)),
    "GELU-tanh": (lambda r: nn.GELU("tanh"), (5, 11)),
    "Softmax": (lambda r: nn.Softmax(), (5, 11)),
    "Softmax-temperature": (lambda r: nn.Softmax(temperature=2.5), (5, 11)),
    "Softmax-cold": (lambda r: nn.Softmax(temperature=0.3), (5, 11)),
    "Dropout-eval": (lambda r: nn.Dropout(0.4, rng=r).eval(), (5, 11)),
    "BatchNorm1d-train": (lambda r: nn.BatchNorm1d(5), (8, 5)),
    "BatchNorm1d-momentum": (lambda r: nn.BatchNorm1d(5, momentum=0.5, eps=1e-3), (8, 5)),
    "BatchNorm1d-eval": (lambda r: batch_norm_in_eval(nn.BatchNorm1d, (8, 5), r), (8, 5)),
    "BatchNorm2d-train": (lambda r: nn.BatchNorm2d(4), IMAGES),
    "BatchNorm2d-eval": (lambda r: batch_norm_in_eval(nn.BatchNorm2d, IMAGES, r), IMAGES),
    "BatchNorm2d-noaffine": (lambda r: nn.BatchNorm2d(4, affine=False), IMAGES),
    "BatchNorm2d-batch-stats-only": (lambda r: nn.BatchNorm2d(4, track_running_stats=False), IMAGES),
    "BatchNorm2d+ReLU-fused": (lambda r: nn.Sequential(nn.BatchNorm2d(4), nn.ReLU()), IMAGES),
    "Residual": (lambda r: nn.Residual(nn.Sequential(nn.Linear(7, 7, rng=r), nn.Tanh())), (6, 7)),
    "Residual-projection": (
        lambda r: nn.Residual(nn.Sequential(nn.Conv2d(4, 6, 3, stride=2, padding=1, bias=False, rng=r),
                                            nn.BatchNorm2d(6), nn.ReLU()),
                              nn.Sequential(nn.Conv2d(4, 6, 1, stride=2, bias=False, rng=r), nn.BatchNorm2d(6))),
        IMAGES),
}
WITH_PARAMETERS = [name for name, (build, _) in LAYERS.items()
                   if build(np.random.default_rng(0)).parameters()]


def inputs(rng, shape):
    return rng.standard_normal(shape).astype(np.float32)


def output_shape(layer, x):
    return copy.deepcopy(layer)(x).shape  # on a copy: a training forward moves BatchNorm's statistics


@pytest.mark.parametrize("name", LAYERS)
def test_forward_and_gradients_match_torch(rng, name):
    build, shape = LAYERS[name]
    layer = build(rng)
    twin = load_into_torch(torch_twin(layer), layer)
    x = inputs(rng, shape)
    grad_out = inputs(rng, output_shape(layer, x))
    y, dx, grads = forward_backward(layer, x, grad_out)
    ty, tdx, tgrads = torch_forward_backward(twin, x, grad_out)
    assert y.dtype == dx.dtype == np.float32
    assert_close(y, ty, f"{name}: output")
    assert_close(dx, tdx, f"{name}: input gradient")
    assert sorted(grads) == sorted(tgrads)
    for pname, g in grads.items():
        assert_close(g, tgrads[pname], f"{name}: gradient of {pname}")
    # BatchNorm's running statistics and batch count after a training step; everything else unchanged
    theirs = state_from_torch(twin)
    for key, value in layer.state_dict().items():
        assert np.shape(value) == theirs[key].shape, key
        assert_close(value, theirs[key], f"{name}: {key} after the step")


@pytest.mark.parametrize("name", WITH_PARAMETERS)
def test_three_adam_steps_match_torch(rng, name):
    build, shape = LAYERS[name]
    layer = build(rng)
    twin = load_into_torch(torch_twin(layer), layer)
    # lr 0.01 moves each weight by about 0.01 a step, so a wrong update rule shows at 1e-4.
    ours = optim.Adam(layer.parameters(), lr=0.01)
    theirs = torch.optim.Adam(twin.parameters(), lr=0.01)
    for step in range(1, 4):
        x = inputs(rng, shape)
        grad_out = inputs(rng, output_shape(layer, x))
        forward_backward(layer, x, grad_out)
        ours.step()
        torch_forward_backward(twin, x, grad_out)
        theirs.step()
        want = state_from_torch(twin)
        for key, value in layer.state_dict().items():
            assert_close(value, want[key], f"{name}: {key} after Adam step {step}")


class DropoutWithMask(torch.nn.Module):
    """torch's dropout with a given mask: x * mask / (1 - p) (what torch.nn.Dropout computes), differentiated
    by autograd."""

    def __init__(self, kept, p):
        super().__init__()
        self.mask = torch.from_numpy(kept.astype(np.float32)) / (1 - p)

    def forward(self, x):
        return x * self.mask


@pytest.mark.parametrize("p", [0.3, 0.75])
def test_dropout_in_training_matches_torch_with_the_same_mask(rng, p):
    layer = nn.Dropout(p, rng=rng)
    x = inputs(rng, (40, 50))
    grad_out = inputs(rng, x.shape)
    y, dx, _ = forward_backward(layer, x, grad_out)
    kept = y != 0  # x has no zeros, so the mask is where the output is not zero
    assert 0.5 * (1 - p) < kept.mean() < 1.5 * (1 - p)
    ty, tdx, _ = torch_forward_backward(DropoutWithMask(kept, p), x, grad_out)
    assert_close(y, ty, "dropout output")
    assert_close(dx, tdx, "dropout input gradient")


# ---- losses -----------------------------------------------------------------------------------------------
def loss_forward_backward(loss, prediction, target):
    """(loss value, gradient w.r.t. the prediction) of an nntrain loss."""
    pt = nntrain.tensor(prediction, requires_grad=True)
    value = loss(pt, target)
    value.backward()
    return value.item(), pt.grad


def torch_loss_forward_backward(loss, prediction, target):
    pt = torch.from_numpy(prediction.copy()).requires_grad_()
    value = loss(pt, torch.from_numpy(target))
    value.backward()
    return value.item(), pt.grad.numpy()


def probability_rows(rng, n, c):
    e = np.exp(rng.standard_normal((n, c)))
    return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)


LOSSES = {
    "CrossEntropy-labels": (lambda: nn.CrossEntropyLoss(), lambda: torch.nn.CrossEntropyLoss(), "labels"),
    "CrossEntropy-labels-smoothing": (lambda: nn.CrossEntropyLoss(label_smoothing=0.1),
                                      lambda: torch.nn.CrossEntropyLoss(label_smoothing=0.1), "labels"),
    "CrossEntropy-soft": (lambda: nn.CrossEntropyLoss(), lambda: torch.nn.CrossEntropyLoss(), "soft"),
    "CrossEntropy-soft-smoothing": (lambda: nn.CrossEntropyLoss(label_smoothing=0.2),
                                    lambda: torch.nn.CrossEntropyLoss(label_smoothing=0.2), "soft"),
    "CrossEntropy-one-hot": (lambda: nn.CrossEntropyLoss(label_smoothing=0.05),
                             lambda: torch.nn.CrossEntropyLoss(label_smoothing=0.05), "one-hot"),
    "MSE": (lambda: nn.MSELoss(), lambda: torch.nn.MSELoss(), "values"),
    "L1": (lambda: nn.L1Loss(), lambda: torch.nn.L1Loss(), "values"),
}


@pytest.mark.parametrize("name", LOSSES)
def test_losses_and_their_gradients_match_torch(rng, name):
    ours, theirs, kind = LOSSES[name]
    n, c = 9, 7
    prediction = inputs(rng, (n, c)) * 3
    if kind == "labels":
        target = rng.integers(0, c, n).astype(np.int64)
    elif kind == "soft":
        target = probability_rows(rng, n, c)
    elif kind == "one-hot":
        target = np.eye(c, dtype=np.float32)[rng.integers(0, c, n)]
    else:
        target = inputs(rng, (n, c))
    value, grad = loss_forward_backward(ours(), prediction, target)
    tvalue, tgrad = torch_loss_forward_backward(theirs(), prediction, target)
    assert_close(value, tvalue, f"{name}: loss")
    assert_close(grad, tgrad, f"{name}: gradient")


def test_cross_entropy_of_huge_logits_matches_torch(rng):
    prediction = (inputs(rng, (6, 5)) * 1e4).astype(np.float32)
    target = rng.integers(0, 5, 6).astype(np.int64)
    value, grad = loss_forward_backward(nn.CrossEntropyLoss(), prediction, target)
    tvalue, tgrad = torch_loss_forward_backward(torch.nn.CrossEntropyLoss(), prediction, target)
    assert np.isfinite(value)
    assert_close(value, tvalue, "loss")
    assert_close(grad, tgrad, "gradient")
