"""+ - * / unary minus, ** and matmul on Tensors: values against NumPy, gradients against central differences
(broadcasting on either side, one input used twice, 0-d and empty tensors, transposed operands), dtype
rules and the messages of shapes that do not fit."""

import numpy as np
import pytest

import nntrain
from nntrain import Tensor

from reference.tensor_gradcheck import gradcheck

# (left shape, right shape): equal, a leading axis added, axes stretched from 1 on both sides, 0-d, empty
BROADCAST_PAIRS = [((3, 4), (3, 4)), ((2, 3, 4), (4,)), ((4,), (2, 3, 4)), ((3, 1, 4), (5, 1)),
                   ((1, 4), (3, 1)), ((), (2, 3)), ((2, 3), ()), ((), ()), ((0, 3), (3,)), ((2, 0), (1, 0))]
BINARY = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
          "div": lambda a, b: a / b}


def _operands(rng, sa, sb, op):
    a, b = rng.standard_normal(sa), rng.standard_normal(sb)
    if op == "div":  # keep the divisor away from zero
        b = np.asarray(np.sign(b) * (np.abs(b) + 1.0))
    return a, b


@pytest.mark.parametrize("op", BINARY)
@pytest.mark.parametrize("sa,sb", BROADCAST_PAIRS)
def test_binary_gradients_with_broadcasting(op, sa, sb, rng):
    a, b = _operands(rng, sa, sb, op)
    expected = BINARY[op](a, b)
    ta, tb = gradcheck(BINARY[op], a, b)
    np.testing.assert_allclose(BINARY[op](ta, tb).data, expected)
    assert ta.grad.shape == sa and tb.grad.shape == sb


@pytest.mark.parametrize("op", BINARY)
def test_binary_with_numbers_and_arrays_on_either_side(op, rng):
    a = rng.standard_normal((2, 3)) + 3.0
    const = np.full(3, 2.5)
    gradcheck(lambda x: BINARY[op](x, 2.0), a)
    gradcheck(lambda x: BINARY[op](2.0, x), a)
    gradcheck(lambda x: BINARY[op](x, const), a)
    gradcheck(lambda x: BINARY[op](const, x), a)  # ndarray on the left defers to the Tensor
    out = BINARY[op](const, Tensor(a))
    assert isinstance(out, Tensor)
    np.testing.assert_allclose(out.data, BINARY[op](const, a))


def test_one_input_used_twice(rng):
    x = rng.standard_normal((3, 4))
    (t,) = gradcheck(lambda x: x * x, x)
    gradcheck(lambda x: x / (x * x + 1.0), x)
    gradcheck(lambda x: (x + 1.0) * (x - 2.0) - x, x)
    gradcheck(lambda x, w: (x * w) * w, x, rng.standard_normal(4))  # a weight used twice


def test_unary_minus_and_plus(rng):
    x = rng.standard_normal((2, 3))
    gradcheck(lambda x: -x, x)
    t = Tensor(x, requires_grad=True)
    assert +t is t


@pytest.mark.parametrize("p", [2, 3, 0.5, -1.0, 1, -2])
def test_power_with_a_number(p, rng):
    x = np.abs(rng.standard_normal((3, 4))) + 0.5
    (t,) = gradcheck(lambda x: x ** p, x)
    np.testing.assert_allclose((t ** p).data, x ** p)


def test_power_zero_has_zero_gradient_everywhere():
    x = Tensor(np.array([0.0, 1.0, -2.0]), requires_grad=True)
    (x ** 0).sum().backward()
    np.testing.assert_array_equal(x.grad, np.zeros(3))  # not 0 * x**-1, which is NaN at 0


def test_number_to_a_tensor_power(rng):
    x = rng.standard_normal(5)
    (t,) = gradcheck(lambda x: 2.0 ** x, x)
    np.testing.assert_allclose((2.0 ** t).data, 2.0 ** x)
    with pytest.raises(TypeError, match="exponent must be a number"):
        t ** t
    with pytest.raises(TypeError, match="base must be a positive number"):
        (-2.0) ** t


def test_power_of_a_zero_dim_tensor():
    gradcheck(lambda x: x ** 3, np.array(1.7))


MATMUL_SHAPES = [((3, 4), (4, 5)), ((1, 4), (4, 1)), ((2, 3, 4), (4, 5)), ((3, 4), (2, 4, 5)),
                 ((2, 1, 3, 4), (5, 4, 2)), ((4,), (4, 5)), ((3, 4), (4,)), ((4,), (4,)), ((2, 3, 4), (4,)),
                 ((4,), (2, 4, 3)), ((0, 4), (4, 5)), ((3, 0), (0, 5)), ((2, 0, 4), (4, 3))]


@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES)
def test_matmul_values_and_gradients(sa, sb, rng):
    a, b = rng.standard_normal(sa), rng.standard_normal(sb)
    ta, tb = gradcheck(lambda a, b: a @ b, a, b)
    out = nntrain.matmul(ta, tb)
    assert out.shape == np.matmul(a, b).shape
    np.testing.assert_allclose(out.data, np.matmul(a, b), atol=1e-12)


def test_matmul_of_transposed_and_sliced_operands(rng):
    a, b = rng.standard_normal((4, 3)), rng.standard_normal((5, 8))
    gradcheck(lambda a, b: a.T @ b[:, ::2].T, a, b)
    gradcheck(lambda a, b: a @ b, a.T, b[:4, ::2])  # leaves that are strided views
    gradcheck(lambda a: a @ a.T, a)                 # one input on both sides


def test_matmul_float32_on_the_kernels_matches_numpy(rng):
    a = rng.standard_normal((7, 5)).astype(np.float32)
    b = rng.standard_normal((5, 6)).astype(np.float32)
    ta, tb = Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)
    out = ta @ tb
    assert out.dtype == np.float32
    g = rng.standard_normal((7, 6)).astype(np.float32)
    out.backward(g)
    np.testing.assert_allclose(out.data, a @ b, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ta.grad, g @ b.T, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(tb.grad, a.T @ g, rtol=1e-5, atol=1e-5)
    assert ta.grad.dtype == np.float32 and tb.grad.dtype == np.float32


@pytest.mark.parametrize("sa,sb,pattern", [
    ((2, 3), (4, 5), r"matmul: .*\(2, 3\).*\(4, 5\)"),
    ((2, 2, 3), (3, 3, 5), r"matmul: .*\(2, 2, 3\).*\(3, 3, 5\)"),
    ((3,), (4,), r"matmul: .*\(3,\).*\(4,\)"),
    ((), (3,), r"matmul: .*at least 1 dimension"),
])
def test_matmul_shapes_that_do_not_fit_name_the_op_and_both_shapes(sa, sb, pattern):
    with pytest.raises(ValueError, match=pattern):
        Tensor(np.ones(sa)) @ Tensor(np.ones(sb))


@pytest.mark.parametrize("op", BINARY)
def test_shapes_that_do_not_broadcast_name_the_op_and_both_shapes(op):
    with pytest.raises(ValueError, match=rf"{op}: .*\(2, 3\) and \(4,\).*dimension"):
        BINARY[op](Tensor(np.ones((2, 3))), Tensor(np.ones(4)))


def test_mixed_float_dtypes_promote_and_gradients_come_back_in_each_inputs_dtype(rng):
    x32 = Tensor(rng.standard_normal((3, 4)).astype(np.float32), requires_grad=True)
    b64 = Tensor(rng.standard_normal(4), requires_grad=True)
    h = x32.relu()                    # a float32 kernel whose backward gets the gradient of a float64 sum
    y = h * b64
    assert y.dtype == np.float64
    y.sum().backward()
    assert x32.grad.dtype == np.float32 and b64.grad.dtype == np.float64
    np.testing.assert_allclose(x32.grad, (x32.data > 0) * b64.data, rtol=1e-6)
    np.testing.assert_allclose(b64.grad, h.data.sum(0), rtol=1e-6)


def test_numpy_scalars_do_not_change_a_tensors_dtype():
    x = Tensor(np.ones(3, np.float32), requires_grad=True)
    for scalar in (np.float64(2.0), np.sqrt(np.float64(4.0)), np.int64(3), np.float32(2.0)):
        for out in (x * scalar, scalar * x, x / scalar, scalar / x, x + scalar, x - scalar, scalar - x):
            assert out.dtype == np.float32, (scalar, out)


def test_integer_tensors_compute_without_gradients():
    i = Tensor(np.array([1, 2, 3]))
    assert (i + 1).dtype == np.int64 and not (i * 2).requires_grad
    np.testing.assert_array_equal((i * i).data, [1, 4, 9])
