"""The examples a user reads first, each run as written (with its default epochs) and held to its promise:
the row-by-row LSTM and the two-branch network reach 90% test accuracy on the digits, and the custom loss
trains as well, is differentiated correctly and reduces to the cross-entropy at gamma = 0.

They run on one thread: their GEMMs are tiny (a batch of 32) and results do not depend on the thread count,
so this only keeps them to a few seconds on a machine whose cores are busy with other work."""

import copy
import pathlib
import runpy

import numpy as np
import pytest

import nntrain
from nntrain import functional as F
from nntrain._tensor import Tensor

from conftest import num_threads
from reference.gradcheck import check_gradients

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"


def load(name):
    return runpy.run_path(str(EXAMPLES / f"{name}.py"))  # defines the example's classes and main, runs nothing


def test_lstm_digits_reaches_90_percent():
    with num_threads(1):
        assert load("lstm_digits")["main"]() >= 0.90


def test_two_branch_reaches_90_percent():
    with num_threads(1):
        assert load("two_branch")["main"]() >= 0.90


def test_the_shared_layer_gets_the_sum_of_both_branches_gradients(rng):
    example = load("two_branch")
    model = example["TwoBranch"](rng=rng).to(np.float64)
    x = rng.standard_normal((4, 1, 8, 8))
    model(Tensor(x)).sum().backward()
    shared_grad = model.shared.weight.grad.copy()
    # the same network with the shared layer replaced by two independent copies, one per branch
    twin = copy.deepcopy(model)
    twin.zero_grad()
    first, second = copy.deepcopy(twin.shared), copy.deepcopy(twin.shared)
    a = first(twin.image(Tensor(x))).relu()
    b = second(twin.pixels(Tensor(x))).relu()
    twin.head(nntrain.cat([a, b], dim=1)).sum().backward()
    np.testing.assert_allclose(shared_grad, first.weight.grad + second.weight.grad, rtol=1e-12)
    assert np.abs(first.weight.grad).sum() > 0 and np.abs(second.weight.grad).sum() > 0


def test_custom_focal_loss_trains_and_is_cross_entropy_at_gamma_0(rng):
    example = load("custom_loss")
    with num_threads(1):
        assert example["main"]() >= 0.90
    logits, y = rng.standard_normal((6, 5)), rng.integers(0, 5, 6)
    focal = example["FocalLoss"](gamma=0.0)
    a, b = Tensor(logits, requires_grad=True), Tensor(logits.copy(), requires_grad=True)
    f, ce = focal(a, y), F.cross_entropy(b, y)
    f.backward()
    ce.backward()
    assert f.item() == pytest.approx(ce.item(), rel=1e-12)
    np.testing.assert_allclose(a.grad, b.grad, rtol=1e-10, atol=1e-15)
    check_gradients(lambda z: example["FocalLoss"](gamma=2.0)(z, y), [logits], rng)
