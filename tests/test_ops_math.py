"""exp, log, sqrt, abs, clamp, dtype casts and clone on Tensors: values against NumPy, gradients against
central differences over several shapes (0-d and empty included), transposed inputs."""

import numpy as np
import pytest

from nntrain import Tensor

from reference.tensor_gradcheck import gradcheck

SHAPES = [(), (5,), (3, 4), (2, 3, 4), (0, 3)]


def _away_from_zero(x):
    return np.where(np.abs(x) < 1e-3, 0.5, x)  # |x| and clamp have kinks; central differences must not straddle them


UNARY = {
    "exp": (lambda t: t.exp(), np.exp, lambda x: x),
    "log": (lambda t: t.log(), np.log, lambda x: np.abs(x) + 0.1),
    "sqrt": (lambda t: t.sqrt(), np.sqrt, lambda x: np.abs(x) + 0.1),
    "abs": (lambda t: t.abs(), np.abs, _away_from_zero),
}


@pytest.mark.parametrize("name", UNARY)
@pytest.mark.parametrize("shape", SHAPES)
def test_unary_values_and_gradients(name, shape, rng):
    op, oracle, domain = UNARY[name]
    x = np.asarray(domain(rng.standard_normal(shape)))
    (t,) = gradcheck(op, x)
    np.testing.assert_allclose(op(t).data, oracle(x))


@pytest.mark.parametrize("name", UNARY)
def test_unary_of_a_transposed_input(name, rng):
    op, oracle, domain = UNARY[name]
    x = domain(rng.standard_normal((3, 4)))
    gradcheck(lambda t: op(t.T), x)
    gradcheck(op, x.T)


def test_abs_gradient_at_zero_is_zero():
    x = Tensor(np.array([0.0, -2.0, 3.0]), requires_grad=True)
    x.abs().sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, -1.0, 1.0])


@pytest.mark.parametrize("low,high", [(-0.5, 0.5), (None, 0.3), (-0.3, None), (0.2, 0.2)])
@pytest.mark.parametrize("shape", [(), (7,), (3, 4)])
def test_clamp(low, high, shape, rng):
    x = rng.standard_normal(shape)
    x = np.where(np.abs(np.abs(x) - 0.5) < 1e-3, 0.1, x)
    x = np.asarray(np.where(np.abs(np.abs(x) - 0.3) < 1e-3, 0.1, x))
    x = np.asarray(np.where(np.abs(x - 0.2) < 1e-3, 0.1, x))
    (t,) = gradcheck(lambda t: t.clamp(low, high), x)
    np.testing.assert_array_equal(t.clamp(min=low, max=high).data, np.clip(x, low, high))


def test_clamp_passes_the_gradient_at_a_bound_and_stops_it_outside():
    x = Tensor(np.array([-1.0, -0.5, 0.0, 0.5, 1.0]), requires_grad=True)
    x.clamp(-0.5, 0.5).sum().backward()
    np.testing.assert_array_equal(x.grad, [0, 1, 1, 1, 0])  # as torch.clamp: a value on a bound passes


def test_clamp_needs_a_bound():
    with pytest.raises(ValueError, match="clamp: give at least one of min and max"):
        Tensor(np.ones(2)).clamp()


def test_clamp_keeps_float32():
    x = Tensor(np.ones(3, np.float32), requires_grad=True)
    assert x.clamp(0.0, 0.5).dtype == np.float32


def test_casts_carry_the_gradient_back_in_the_original_dtype(rng):
    x = rng.standard_normal((2, 3))
    t = Tensor(x, requires_grad=True)
    y = t.float()
    assert y.dtype == np.float32 and y.requires_grad
    (y * 2).sum().backward()
    assert t.grad.dtype == np.float64
    np.testing.assert_array_equal(t.grad, np.full((2, 3), 2.0))
    assert t.double() is t
    gradcheck(lambda t: t.to(np.float64) * 3, x)


def test_cast_to_integers_ends_the_gradient(rng):
    t = Tensor(rng.standard_normal(3) * 10, requires_grad=True)
    i = t.long()
    assert i.dtype == np.int64 and not i.requires_grad


def test_clone_copies_and_carries_the_gradient(rng):
    x = rng.standard_normal((3, 2))
    t = Tensor(x.T, requires_grad=True)
    c = t.clone()
    assert c.data.flags.c_contiguous and not np.shares_memory(c.data, t.data)
    gradcheck(lambda t: t.clone() * t, x)
    assert t.contiguous() is not t and Tensor(x).contiguous().data is x


def test_clamp_with_tensor_bounds(rng):
    x = rng.standard_normal((3, 4))
    low, high = Tensor(np.full(4, -0.3)), Tensor(np.array(0.4))
    (t,) = gradcheck(lambda t: t.clamp(low, high), np.where(np.abs(np.abs(x) - 0.35) < 0.05, 0.0, x))
    np.testing.assert_array_equal(Tensor(x).clamp(min=low, max=high).data, np.clip(x, -0.3, 0.4))
    with pytest.raises(TypeError, match="clamp: a bound that requires a gradient"):
        t.clamp(min=Tensor(np.zeros(4), requires_grad=True))
