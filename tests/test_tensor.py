"""The Tensor: construction and dtype rules, array facts and conversions, detach, and in-place changes (true
in place, as in PyTorch: memory shared with the tensor sees them; recorded so gradients stay right; refused
where they would leave a gradient wrong)."""

import numpy as np
import pytest

import nntrain
from nntrain import Tensor, no_grad

from reference.tensor_gradcheck import gradcheck


# ---- construction ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("data,dtype", [(1.5, np.float32), ([1.0, 2.0], np.float32), (3, np.int64), ([1, 2], np.int64),
                                        ([True, False], np.bool_), (np.float64(1.5), np.float64),
                                        (np.ones(2, np.float64), np.float64), (np.ones(2, np.int32), np.int32)])
def test_tensor_dtype_rules_follow_pytorch(data, dtype):
    assert nntrain.tensor(data).dtype == dtype


def test_tensor_copies_and_Tensor_wraps():
    a = np.ones(3)
    assert not np.shares_memory(nntrain.tensor(a).data, a)
    assert Tensor(a).data is a
    assert nntrain.tensor(a, dtype=np.float32).dtype == np.float32
    assert nntrain.tensor(Tensor(a)).data is not a


def test_tensor_is_the_function_even_after_importing_the_class():
    from nntrain import Tensor as T  # noqa: F401  (importing the class must not shadow nntrain.tensor)

    assert callable(nntrain.tensor) and isinstance(nntrain.tensor([1.0]), Tensor)
    assert nntrain.is_tensor(nntrain.tensor(1.0)) and not nntrain.is_tensor(np.ones(1))


def test_unsupported_dtypes_and_integer_gradients_are_errors():
    with pytest.raises(TypeError, match="unsupported dtype complex128"):
        Tensor(np.ones(2, np.complex128))
    with pytest.raises(RuntimeError, match="only floating-point tensors can require gradients.*int64"):
        Tensor(np.array([1, 2]), requires_grad=True)
    with pytest.raises(RuntimeError, match="only floating-point"):
        nntrain.tensor([1, 2]).requires_grad_()


def test_requires_grad_only_on_leaves():
    x = Tensor(np.ones(2), requires_grad=True)
    y = x * 2
    assert x.is_leaf and not y.is_leaf and y.requires_grad
    with pytest.raises(RuntimeError, match="leaf tensors.*detach"):
        y.requires_grad_(False)
    x.requires_grad = False
    assert not (x * 2).requires_grad and x.requires_grad_() is x and x.requires_grad


# ---- array facts and conversions --------------------------------------------------------------------------------
def test_array_facts():
    t = Tensor(np.arange(6.0).reshape(2, 3))
    assert t.shape == (2, 3) and t.size() == (2, 3) and t.size(1) == 3 and t.size(-1) == 3
    assert t.ndim == 2 and t.dim() == 2 and t.numel() == 6 and len(t) == 2 and t.dtype == np.float64
    assert t.numpy() is t.data and np.asarray(t) is t.data and t.tolist() == [[0, 1, 2], [3, 4, 5]]
    assert np.asarray(t, dtype=np.float32).dtype == np.float32
    assert [row.tolist() for row in t] == [[0, 1, 2], [3, 4, 5]]
    with pytest.raises(TypeError, match="len\\(\\) of a 0-d tensor"):
        len(Tensor(np.array(1.0)))


def test_item_float_int_bool():
    assert Tensor(np.array([[2.5]])).item() == 2.5 and float(Tensor(np.array(2.5))) == 2.5
    assert int(Tensor(np.array([3]))) == 3 and bool(Tensor(np.array([1.0])))
    with pytest.raises(ValueError, match=r"item: .*one element.*shape \(2,\)"):
        Tensor(np.ones(2)).item()
    with pytest.raises(RuntimeError, match="truth value of a tensor with 2 elements is ambiguous"):
        bool(Tensor(np.ones(2)))


def test_comparisons_give_boolean_tensors_without_gradient():
    x = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    for out, expected in [(x > 2, [0, 0, 1]), (x >= 2, [0, 1, 1]), (x < 2, [1, 0, 0]), (x <= 2, [1, 1, 0]),
                          (x == 2, [0, 1, 0]), (x != 2, [1, 0, 1]), (x == Tensor(np.array([1.0, 0, 3])), [1, 0, 1])]:
        assert out.dtype == np.bool_ and not out.requires_grad
        np.testing.assert_array_equal(out.data, expected)
    assert len({x, x, Tensor(np.ones(1))}) == 2  # hashable by identity despite __eq__


def test_repr_names_dtype_and_gradient_state():
    assert repr(nntrain.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert "dtype=float64" in repr(Tensor(np.ones(1)))
    assert "requires_grad=True" in repr(Tensor(np.ones(1), requires_grad=True))
    assert "grad_fn=<MulBackward>" in repr(Tensor(np.ones(1), requires_grad=True) * 2)


def test_detach_shares_memory_and_version_and_ends_the_graph():
    x = Tensor(np.ones(3), requires_grad=True)
    y = x * 2
    d = y.detach()
    assert d.data is y.data and d.is_leaf and not d.requires_grad and d.grad_fn is None
    d += 1                             # memory shared: y sees it
    np.testing.assert_array_equal(y.data, [3, 3, 3])
    assert d._version is y._version    # so a backward that saved y knows y changed


# ---- in place: no gradient involved ------------------------------------------------------------------------------
def test_parameter_update_under_no_grad_is_truly_in_place():
    w = Tensor(np.ones(3), requires_grad=True)
    data = w.data
    with no_grad():
        w -= 0.5
        w.mul_(2).add_(Tensor(np.ones(3)), alpha=3).sub_(1).div_(2)
        w[0] = 10.0
    assert w.data is data and w.is_leaf and w.requires_grad
    np.testing.assert_array_equal(w.data, [10.0, 1.5, 1.5])


def test_in_place_on_plain_tensors_outside_any_graph():
    t = Tensor(np.zeros((2, 3)))
    data = t.data
    t += 1
    t[0, 1] = 5
    t.copy_(np.arange(3.0))
    t.zero_()
    t.fill_(4.0)
    assert t.data is data and t.grad_fn is None
    np.testing.assert_array_equal(t.data, np.full((2, 3), 4.0))


# ---- in place under recording ----------------------------------------------------------------------------------
IN_PLACE = {"+=": lambda t, o: t.__iadd__(o), "-=": lambda t, o: t.__isub__(o), "*=": lambda t, o: t.__imul__(o),
            "/=": lambda t, o: t.__itruediv__(o), "add_": lambda t, o: t.add_(o, alpha=2.0),
            "sub_": lambda t, o: t.sub_(o), "mul_": lambda t, o: t.mul_(o), "div_": lambda t, o: t.div_(o)}


@pytest.mark.parametrize("op", IN_PLACE)
def test_leaf_that_requires_grad_refuses_in_place_changes_while_recording(op):
    w = Tensor(np.ones(3), requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad.*in-place.*no_grad"):
        IN_PLACE[op](w, 2.0)
    np.testing.assert_array_equal(w.data, np.ones(3))


@pytest.mark.parametrize("op", [lambda w: w.zero_(), lambda w: w.fill_(1.0), lambda w: w.copy_(np.zeros(3)),
                                lambda w: w.__setitem__(0, 5.0)], ids=["zero_", "fill_", "copy_", "setitem"])
def test_leaf_that_requires_grad_refuses_assignment_while_recording(op):
    w = Tensor(np.ones(3), requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        op(w)


@pytest.mark.parametrize("op", IN_PLACE)
def test_in_place_on_a_recorded_tensor_writes_its_memory_and_keeps_gradients_right(op, rng):
    x, w = rng.standard_normal((2, 3)), rng.standard_normal(3) + 3.0

    def f(x, w):
        y = x * 1.5
        data = y.data
        IN_PLACE[op](y, w)          # w requires grad: the gradient reaches it through the in-place op
        IN_PLACE[op](y, 2.0)
        assert y.data is data       # the tensor's own memory was written
        return y * x

    gradcheck(f, x, w)


def test_in_place_result_is_seen_through_numpy_and_detach():
    x = Tensor(np.ones(3), requires_grad=True)
    y = x * 2
    array = y.numpy()
    y += 1
    np.testing.assert_array_equal(array, [3, 3, 3])
    (y * y).sum().backward()
    np.testing.assert_array_equal(x.grad, [12, 12, 12])


def test_in_place_into_a_tensor_that_required_no_gradient(rng):
    w = rng.standard_normal(3)

    def f(w):
        buffer = Tensor(np.ones(3))
        buffer *= w
        buffer += w
        return buffer

    gradcheck(f, w)


def test_in_place_square_of_itself(rng):
    gradcheck(lambda x: _square_in_place(x * 1.0), rng.standard_normal(4))


def _square_in_place(y):
    y *= y
    return y


def test_changing_a_saved_tensor_in_place_is_caught_at_backward():
    a = Tensor(np.ones(3), requires_grad=True)
    w = Tensor(np.full(3, 2.0), requires_grad=True)
    x = a * 2
    y = x * w                  # saves x for w's gradient
    x += 1
    with pytest.raises(RuntimeError, match=r"gradient of Mul was modified by an in-place operation.*version 1.*"
                                           r"expected version 0"):
        y.sum().backward()


def test_changing_a_parameter_under_no_grad_between_forward_and_backward_is_caught():
    x = Tensor(np.ones(3), requires_grad=True)
    w = Tensor(np.full(3, 2.0), requires_grad=True)
    loss = (x * w).sum()
    with no_grad():
        w -= 1
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        loss.backward()


def test_changing_a_saved_tensor_through_detach_is_caught():
    x = Tensor(np.ones(3), requires_grad=True)
    loss = (x * x).sum()
    x.detach().zero_()
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        loss.backward()


def test_in_place_that_would_broadcast_to_a_larger_shape_is_an_error():
    y = Tensor(np.ones(3), requires_grad=True) * 1
    with pytest.raises(ValueError, match=r"\+=: the result has shape \(2, 3\).*\(3,\)"):
        y += Tensor(np.ones((2, 3)), requires_grad=True)


def test_in_place_on_a_view_of_a_leaf_that_requires_grad_is_an_error():
    w = Tensor(np.ones(3), requires_grad=True)
    v = w[:2]
    with pytest.raises(RuntimeError, match="shares memory with another tensor.*view"):
        v += 1
    np.testing.assert_array_equal(w.data, np.ones(3))


@pytest.mark.parametrize("make_view", [lambda y: y[:2], lambda y: y.reshape(3, 1), lambda y: y.unsqueeze(0),
                                       lambda y: y.split(1)[0]], ids=["index", "reshape", "unsqueeze", "split"])
def test_in_place_on_a_view_or_its_base_while_both_are_alive_is_an_error(make_view):
    y = Tensor(np.ones(3), requires_grad=True) * 1
    v = make_view(y)
    with pytest.raises(RuntimeError, match="shares memory with another tensor"):
        v *= 2
    with pytest.raises(RuntimeError, match="shares memory with another tensor"):
        y *= 2
    with pytest.raises(RuntimeError, match="shares memory with another tensor"):
        y[0] = Tensor(np.ones(()), requires_grad=True)
    del v
    y *= 2                      # the view is gone: nothing else sees y's memory
    np.testing.assert_array_equal(y.data, [2, 2, 2])


def test_in_place_on_a_view_whose_base_is_gone_is_fine(rng):
    def f(x, b):
        h = (x * 2).reshape(3, 2)   # the product itself is not kept anywhere
        h += b
        return h

    gradcheck(f, rng.standard_normal(6), rng.standard_normal(2))


def test_view_taken_under_no_grad_of_a_plain_tensor_then_changed_with_a_gradient():
    buffer = Tensor(np.zeros(4))
    row = buffer[1:3]
    w = Tensor(np.ones(2), requires_grad=True)
    with pytest.raises(RuntimeError, match="shares memory with another tensor"):
        row += w                 # buffer would change without a record of it


def test_setitem_records_the_assigned_values(rng):
    def f(x, h):
        out = Tensor(np.zeros((3, 4)))
        out[0] = h
        out[2, 1:] = x[0, :3]
        out[np.array([1, 1])] = x     # repeated rows: the last assignment wins, as in NumPy
        return out * 2

    gradcheck(f, rng.standard_normal((2, 4)), rng.standard_normal(4))


def test_setitem_into_a_recorded_tensor(rng):
    def f(x, v):
        y = x * 3
        y[:, 1] = v
        y[0] = 0.0
        return y

    gradcheck(f, rng.standard_normal((3, 4)), rng.standard_normal(3))


def test_setitem_gives_the_value_its_gradient_in_its_own_dtype():
    out = Tensor(np.zeros(3, np.float32))
    v = Tensor(np.ones(2), requires_grad=True)
    out[:2] = v
    assert out.dtype == np.float32
    (out * 2).sum().backward()
    assert v.grad.dtype == np.float64
    np.testing.assert_array_equal(v.grad, [2, 2])


def test_copy_fill_and_zero_while_recording(rng):
    def f(x, src):
        y = x * 2
        z = x * 1
        z.copy_(src)        # the gradient reaches src, broadcast back, and none reaches x through z
        y.fill_(3.0)
        return z + y + x

    gradcheck(f, rng.standard_normal((2, 3)), rng.standard_normal(3))
    x = Tensor(np.ones(2), requires_grad=True)
    y = x * 5
    y.zero_()
    (y + x).sum().backward()
    np.testing.assert_array_equal(x.grad, [1, 1])


@pytest.mark.parametrize("op", [lambda t: t.exp(), lambda t: t.sigmoid(), lambda t: t.tanh(), lambda t: t.sqrt()],
                         ids=["exp", "sigmoid", "tanh", "sqrt"])
def test_changing_an_output_that_its_op_saved_is_caught_at_backward(op):
    x = Tensor(np.full(3, 0.5), requires_grad=True)
    y = op(x)                # the backward of these reads the output, not the input
    y += 1
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.sum().backward()
