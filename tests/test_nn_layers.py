"""Every layer's backward against central differences in float64, plus forward semantics."""

import numpy as np
import pytest

from nntrain import Tensor
from nntrain import nn
from nntrain import functional as F

from reference.modules import check_module_backward


def images(rng, n=2, c=3, h=7, w=6):
    return rng.standard_normal((n, c, h, w))


LAYERS = {
    "Linear": (lambda r: nn.Linear(5, 4, rng=r), lambda r: r.standard_normal((3, 5))),
    "Linear-nobias": (lambda r: nn.Linear(5, 4, bias=False, rng=r), lambda r: r.standard_normal((3, 5))),
    "Conv2d": (lambda r: nn.Conv2d(3, 4, 3, stride=2, padding=1, rng=r), images),
    "Conv2d-dilated": (lambda r: nn.Conv2d(3, 2, (3, 2), dilation=(2, 1), rng=r), images),
    "MaxPool2d": (lambda r: nn.MaxPool2d(2), images),
    "MaxPool2d-overlap": (lambda r: nn.MaxPool2d(3, stride=2, padding=1), images),
    "AvgPool2d": (lambda r: nn.AvgPool2d(3, stride=2, padding=1), images),
    "Flatten": (lambda r: nn.Flatten(), images),
    "ReLU": (lambda r: nn.ReLU(), lambda r: r.standard_normal((4, 9))),
    "LeakyReLU": (lambda r: nn.LeakyReLU(0.2), lambda r: r.standard_normal((4, 9))),
    "ELU": (lambda r: nn.ELU(0.7), lambda r: r.standard_normal((4, 9))),
    "Sigmoid": (lambda r: nn.Sigmoid(), lambda r: r.standard_normal((4, 9))),
    "Tanh": (lambda r: nn.Tanh(), lambda r: r.standard_normal((4, 9))),
    "GELU": (lambda r: nn.GELU(), lambda r: r.standard_normal((4, 9))),
    "GELU-tanh": (lambda r: nn.GELU("tanh"), lambda r: r.standard_normal((4, 9))),
    "Softmax": (lambda r: nn.Softmax(), lambda r: r.standard_normal((4, 9))),
    "Softmax-T": (lambda r: nn.Softmax(temperature=2.5), lambda r: r.standard_normal((4, 9))),
    "BatchNorm1d": (lambda r: nn.BatchNorm1d(5), lambda r: r.standard_normal((6, 5))),
    "BatchNorm2d": (lambda r: nn.BatchNorm2d(3), images),
    "BatchNorm2d-eval": (lambda r: nn.BatchNorm2d(3).eval(), images),
    "Dropout-eval": (lambda r: nn.Dropout(0.5).eval(), lambda r: r.standard_normal((4, 9))),
    "Residual": (lambda r: nn.Residual(nn.Sequential(nn.Linear(5, 5, rng=r), nn.Tanh())),
                 lambda r: r.standard_normal((3, 5))),
    "Residual-projection": (lambda r: nn.Residual(nn.Sequential(nn.Conv2d(3, 4, 3, stride=2, padding=1, rng=r)),
                                                  nn.Conv2d(3, 4, 1, stride=2, rng=r)), images),
    "Sequential": (lambda r: nn.Sequential(nn.Linear(5, 6, rng=r), nn.ELU(), nn.Linear(6, 2, rng=r)),
                   lambda r: r.standard_normal((3, 5))),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_backward_matches_central_differences(rng, name):
    make_layer, make_input = LAYERS[name]
    layer = make_layer(rng)
    check_module_backward(layer, make_input(rng), rng)


def test_dropout_in_training_mode_uses_one_mask_per_forward(rng):
    layer = nn.Dropout(0.5, rng=np.random.default_rng(3))
    x = np.ones((50, 40), np.float32)
    y = layer(x)
    kept = y != 0
    assert 0.4 < kept.mean() < 0.6
    np.testing.assert_allclose(y[kept], 2.0)
    g = layer.backward(np.ones_like(x))
    np.testing.assert_array_equal(g != 0, kept)
    assert not np.array_equal(layer(x) != 0, kept), "a new mask each step"


def test_train_and_eval_switch_dropout_and_batchnorm(rng):
    model = nn.Sequential(nn.Linear(4, 4, rng=rng), nn.BatchNorm1d(4), nn.Dropout(0.5, rng=rng))
    x = rng.standard_normal((8, 4)).astype(np.float32)
    model.train()
    assert all(m.training for m in model.modules())
    model(x)
    running = model[1].running_mean.copy()
    assert np.abs(running).sum() > 0, "training updates running statistics"
    model.eval()
    assert not any(m.training for m in model.modules())
    a, b = model(x), model(x)
    np.testing.assert_array_equal(a, b)  # no dropout, fixed statistics
    np.testing.assert_array_equal(model[1].running_mean, running)
    expected = (model[0](x) - running) / np.sqrt(model[1].running_var + 1e-5)
    np.testing.assert_allclose(a, expected, rtol=1e-5, atol=1e-5)


def test_linear_matches_the_formula_and_pytorch_layout(rng):
    layer = nn.Linear(3, 2, rng=rng)
    assert layer.weight.shape == (2, 3) and layer.bias.shape == (2,)
    x = rng.standard_normal((4, 3)).astype(np.float32)
    np.testing.assert_allclose(layer(x), x @ layer.weight.data.T + layer.bias.data, rtol=1e-6)
    bound = 1 / np.sqrt(3)
    assert np.abs(layer.weight.data).max() <= bound and np.abs(layer.bias.data).max() <= bound


def test_layers_name_shapes_that_do_not_fit(rng):
    with pytest.raises(ValueError, match=r"Linear\(5, 4\): expected input \(N, 5\), got \(3, 6\)"):
        nn.Linear(5, 4, rng=rng)(np.zeros((3, 6), np.float32))
    with pytest.raises(ValueError, match=r"Conv2d\(3, 4\): expected input \(N, 3, H, W\), got \(2, 1, 8, 8\)"):
        nn.Conv2d(3, 4, 3, rng=rng)(np.zeros((2, 1, 8, 8), np.float32))
    with pytest.raises(ValueError, match="skip path"):
        nn.Residual(nn.Linear(4, 3, rng=rng))(np.zeros((2, 4), np.float32))


def test_softmax_temperature_flattens(rng):
    x = rng.standard_normal((2, 5)).astype(np.float32) * 3
    cold, hot = nn.Softmax(temperature=0.5)(x), nn.Softmax(temperature=5.0)(x)
    np.testing.assert_allclose(cold.sum(axis=1), 1, rtol=1e-6)
    assert hot.max() < cold.max()
    np.testing.assert_allclose(nn.Softmax(temperature=2.0)(x), F.softmax(x / 2), rtol=1e-6)


@pytest.mark.parametrize("bn,shape", [(nn.BatchNorm2d, (6, 3, 5, 5)), (nn.BatchNorm1d, (9, 4))])
def test_batchnorm_relu_fused_by_sequential_equals_the_two_layers(rng, bn, shape):
    # Sequential runs BatchNorm+ReLU as one fused pass while training; outputs, input gradients, parameter
    # gradients and running statistics must equal those of the two layers run one after the other.
    x = rng.standard_normal(shape)
    g = rng.standard_normal(shape)
    fused = nn.Sequential(bn(shape[1]), nn.ReLU()).to(np.float64)
    apart_bn, apart_relu = bn(shape[1]).to(np.float64), nn.ReLU()
    for m in (fused[0], apart_bn):
        m.weight.data[:] = rng.standard_normal(shape[1]) if m is fused[0] else fused[0].weight.data
        m.bias.data[:] = np.linspace(-1, 1, shape[1])
    assert fused(Tensor(x)).grad_fn.name == "BatchNorm"  # one op: the ReLU ran inside the BatchNorm kernel
    fused[0].reset_parameters()
    fused[0].weight.data[:] = apart_bn.weight.data
    fused[0].bias.data[:] = apart_bn.bias.data
    y = fused(x)
    y2 = apart_relu(apart_bn(x))
    np.testing.assert_allclose(y, y2, rtol=1e-12, atol=1e-12)
    dx = fused.backward(g)
    dx2 = apart_bn.backward(apart_relu.backward(g))
    np.testing.assert_allclose(dx, dx2, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(fused[0].weight.grad, apart_bn.weight.grad, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(fused[0].bias.grad, apart_bn.bias.grad, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(fused[0].running_var, apart_bn.running_var, rtol=1e-12)
    fused.eval()
    fused(x)
    assert fused(Tensor(x)).grad_fn.name == "ReLU"  # evaluation runs the layers as they are
