"""Whole models pass the numerical gradient check in float64; a broken backward fails it."""

import numpy as np

from nntrain import nn
from nntrain.gradient_check import gradcheck


def test_mlp_passes(rng):
    model = nn.Sequential(nn.Linear(6, 8, rng=rng), nn.ReLU(), nn.Linear(8, 8, rng=rng), nn.Tanh(),
                          nn.Linear(8, 3, rng=rng))
    x = rng.standard_normal((5, 6)).astype(np.float32)
    y = np.array([0, 2, 1, 1, 0])
    result = gradcheck(model, x, y, nn.CrossEntropyLoss())
    assert result.passed, str(result)
    assert list(result.per_layer()) == ["0", "2", "4"]
    assert model.dtype == np.float32, "the original model is untouched"


def test_cnn_with_batchnorm_pool_dropout_and_residual_passes(rng):
    model = nn.Sequential(
        nn.Conv2d(2, 4, 3, padding=1, rng=rng), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
        nn.Residual(nn.Sequential(nn.Conv2d(4, 4, 3, padding=1, rng=rng), nn.BatchNorm2d(4), nn.ELU())),
        nn.Dropout(0.3), nn.Flatten(), nn.Linear(4 * 3 * 3, 4, rng=rng))
    model.train()
    model[5].eval()  # dropout in eval mode; batch norm uses batch statistics
    x = rng.standard_normal((4, 2, 6, 6))
    y = np.array([0, 1, 2, 3])
    result = gradcheck(model, x, y, nn.CrossEntropyLoss(label_smoothing=0.1), max_checks=24)
    assert result.passed, str(result)


def test_mse_with_soft_targets_passes(rng):
    model = nn.Sequential(nn.Linear(3, 4, rng=rng), nn.Sigmoid(), nn.Linear(4, 2, rng=rng))
    result = gradcheck(model, rng.standard_normal((6, 3)), rng.standard_normal((6, 2)), nn.MSELoss())
    assert result.passed, str(result)


class WrongReLU(nn.ReLU):
    def backward(self, grad_out):
        return 0.9 * super().backward(grad_out)


def test_a_wrong_backward_is_caught(rng):
    model = nn.Sequential(nn.Linear(4, 5, rng=rng), WrongReLU(), nn.Linear(5, 2, rng=rng))
    x = rng.standard_normal((8, 4)) * 3
    result = gradcheck(model, x, rng.integers(0, 2, 8), nn.CrossEntropyLoss())
    assert not result.passed
    assert result.per_layer()["0"] > 1e-3 and result.per_layer()["2"] < 1e-6
