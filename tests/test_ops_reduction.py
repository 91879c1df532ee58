"""sum, mean, max/min (values and indices), amax/amin, argmax/argmin over all elements or along dims, with
keepdim: values against NumPy, gradients against central differences, ties, 0-d and empty tensors."""

import numpy as np
import pytest

from nntrain import Tensor

from reference.tensor_gradcheck import gradcheck

# (shape, dim): every element, one dim (negative too), several dims, 0-d
REDUCE_CASES = [((3, 4), None), ((3, 4), 0), ((3, 4), -1), ((2, 3, 4), (0, 2)), ((2, 3, 4), (-1, 1)),
                ((5,), 0), ((), None), ((), 0), ((), -1), ((2, 1, 3), 1)]


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("shape,dim", REDUCE_CASES)
@pytest.mark.parametrize("name", ["sum", "mean"])
def test_sum_and_mean(name, shape, dim, keepdim, rng):
    x = rng.standard_normal(shape)
    (t,) = gradcheck(lambda t: getattr(t, name)(dim, keepdim=keepdim), x)
    expected = getattr(np, name)(x, axis=dim if x.ndim else None, keepdims=keepdim)
    out = getattr(t, name)(dim, keepdim=keepdim)
    assert out.shape == np.shape(expected)
    np.testing.assert_allclose(out.data, expected)


def test_sum_over_an_empty_dim_gives_zeros_and_an_empty_gradient():
    t = Tensor(np.ones((0, 3)), requires_grad=True)
    out = t.sum(0)
    np.testing.assert_array_equal(out.data, np.zeros(3))
    out.backward(np.ones(3))
    assert t.grad.shape == (0, 3)
    gradcheck(lambda t: t.sum(1) * 2, np.ones((0, 3)))


def test_mean_of_integers_is_an_error():
    with pytest.raises(TypeError, match="mean: needs a floating-point tensor"):
        Tensor(np.array([1, 2])).mean()


@pytest.mark.parametrize("dim", [3, -4, (0, 5)])
def test_reduction_dim_out_of_range(dim):
    with pytest.raises(IndexError, match="out of range"):
        Tensor(np.ones((2, 3, 4))).sum(dim)


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("largest", [True, False])
def test_max_and_min_along_a_dim(dim, keepdim, largest, rng):
    x = rng.standard_normal((3, 4, 2))
    name = "max" if largest else "min"
    gradcheck(lambda t: getattr(t, name)(dim, keepdim=keepdim).values, x)
    values, indices = getattr(Tensor(x), name)(dim, keepdim=keepdim)
    np.testing.assert_array_equal(values.data, getattr(np, name)(x, axis=dim, keepdims=keepdim))
    arg = np.argmax if largest else np.argmin
    np.testing.assert_array_equal(indices.data, arg(x, axis=dim, keepdims=keepdim))
    assert indices.dtype == np.int64 and not indices.requires_grad


def test_max_along_a_dim_sends_the_gradient_to_the_first_of_tied_elements():
    t = Tensor(np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]]), requires_grad=True)
    values, indices = t.max(1)
    np.testing.assert_array_equal(indices.data, [1, 0])
    values.sum().backward()
    np.testing.assert_array_equal(t.grad, [[0, 1, 0], [1, 0, 0]])


def test_max_of_a_zero_dim_tensor_along_dim_0():
    t = Tensor(np.array(2.5), requires_grad=True)
    values, indices = t.max(0)
    assert values.item() == 2.5 and indices.item() == 0
    values.backward()
    assert t.grad == 1.0
    gradcheck(lambda t: t.min(0).values * 3, np.array(-1.5))


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("shape,dim", [((3, 4), None), ((3, 4), 1), ((2, 3, 4), (0, 2)), ((), None), ((), 0)])
@pytest.mark.parametrize("name", ["amax", "amin"])
def test_amax_amin(name, shape, dim, keepdim, rng):
    x = rng.standard_normal(shape)
    (t,) = gradcheck(lambda t: getattr(t, name)(dim, keepdim=keepdim), x)
    np.testing.assert_array_equal(getattr(t, name)(dim, keepdim=keepdim).data,
                                  getattr(np, name)(x, axis=dim, keepdims=keepdim))


def test_full_max_and_amax_split_the_gradient_among_ties():
    t = Tensor(np.array([[1.0, 4.0], [4.0, 4.0]]), requires_grad=True)
    t.max().backward()
    np.testing.assert_allclose(t.grad, [[0, 1 / 3], [1 / 3, 1 / 3]])
    t.grad = None
    t.amax(0).sum().backward()
    np.testing.assert_allclose(t.grad, [[0, 0.5], [1, 0.5]])


def test_max_and_min_over_everything(rng):
    x = rng.standard_normal((3, 5))
    gradcheck(lambda t: t.max(), x)
    gradcheck(lambda t: t.min() * t.max(), x)
    assert Tensor(x).min().item() == x.min()


def test_max_of_an_empty_tensor_is_an_error():
    with pytest.raises(ValueError, match="empty"):
        Tensor(np.ones((0, 3))).max()
    with pytest.raises(IndexError, match="empty"):
        Tensor(np.ones((0, 3))).max(0)


def test_argmax_argmin(rng):
    x = rng.standard_normal((3, 4))
    t = Tensor(x, requires_grad=True)
    assert t.argmax().item() == np.argmax(x)
    np.testing.assert_array_equal(t.argmin(1).data, np.argmin(x, 1))
    np.testing.assert_array_equal(t.argmax(0, keepdim=True).data, np.argmax(x, 0, keepdims=True))
    assert t.argmax(1).dtype == np.int64 and not t.argmax(1).requires_grad


def test_argmax_of_a_zero_dim_tensor():
    t = Tensor(np.array(3.0))
    assert t.argmax(0).item() == 0 and t.argmin(-1).item() == 0 and t.argmax().item() == 0
