"""reshape/view, flatten, transpose, permute, .T, unsqueeze, squeeze, expand: values against NumPy, gradients
against central differences (non-contiguous inputs and 0-d tensors included), views share memory, and the
messages of shapes that do not fit."""

import numpy as np
import pytest

from nntrain import Tensor

from reference.tensor_gradcheck import gradcheck

SHAPE_OPS = [
    ("reshape", (3, 4), lambda t: t.reshape(4, 3), lambda x: x.reshape(4, 3)),
    ("reshape -1", (2, 3, 4), lambda t: t.reshape(-1, 4), lambda x: x.reshape(-1, 4)),
    ("reshape tuple", (2, 3), lambda t: t.reshape((3, 2)), lambda x: x.reshape(3, 2)),
    ("reshape 0-d", (), lambda t: t.reshape(1, 1), lambda x: x.reshape(1, 1)),
    ("reshape to 0-d", (1, 1), lambda t: t.reshape(()), lambda x: x.reshape(())),
    ("reshape empty", (0, 4), lambda t: t.reshape(4, 0), lambda x: x.reshape(4, 0)),
    ("view", (3, 4), lambda t: t.view(2, 6), lambda x: x.reshape(2, 6)),
    ("flatten", (2, 3, 4), lambda t: t.flatten(), lambda x: x.reshape(-1)),
    ("flatten 1", (2, 3, 4), lambda t: t.flatten(1), lambda x: x.reshape(2, -1)),
    ("flatten 0..1", (2, 3, 4), lambda t: t.flatten(0, 1), lambda x: x.reshape(6, 4)),
    ("flatten 0-d", (), lambda t: t.flatten(), lambda x: x.reshape(1)),
    ("transpose", (2, 3, 4), lambda t: t.transpose(0, 2), lambda x: x.swapaxes(0, 2)),
    ("transpose neg", (2, 3, 4), lambda t: t.transpose(-1, -2), lambda x: x.swapaxes(-1, -2)),
    ("permute", (2, 3, 4), lambda t: t.permute(2, 0, 1), lambda x: x.transpose(2, 0, 1)),
    ("permute list", (2, 3, 4), lambda t: t.permute([1, -1, 0]), lambda x: x.transpose(1, 2, 0)),
    ("T", (3, 4), lambda t: t.T, lambda x: x.T),
    ("transpose 0-d", (), lambda t: t.transpose(0, -1), lambda x: x),
    ("unsqueeze 0", (3, 4), lambda t: t.unsqueeze(0), lambda x: x[None]),
    ("unsqueeze -1", (3, 4), lambda t: t.unsqueeze(-1), lambda x: x[..., None]),
    ("unsqueeze 0-d", (), lambda t: t.unsqueeze(0), lambda x: x.reshape(1)),
    ("squeeze", (1, 3, 1, 4), lambda t: t.squeeze(), lambda x: x.reshape(3, 4)),
    ("squeeze dim", (1, 3, 1, 4), lambda t: t.squeeze(2), lambda x: x.reshape(1, 3, 4)),
    ("squeeze dims", (1, 3, 1, 4), lambda t: t.squeeze((0, 2)), lambda x: x.reshape(3, 4)),
    ("squeeze not 1", (2, 3), lambda t: t.squeeze(0), lambda x: x),
    ("expand", (3, 1), lambda t: t.expand(3, 4), lambda x: np.broadcast_to(x, (3, 4))),
    ("expand lead", (3, 1), lambda t: t.expand(2, -1, 5), lambda x: np.broadcast_to(x, (2, 3, 5))),
    ("expand 0-d", (), lambda t: t.expand(2, 3), lambda x: np.broadcast_to(x, (2, 3))),
]


@pytest.mark.parametrize("shape,op,oracle", [c[1:] for c in SHAPE_OPS], ids=[c[0] for c in SHAPE_OPS])
def test_shape_op_values_and_gradients(shape, op, oracle, rng):
    x = rng.standard_normal(shape)
    (t,) = gradcheck(op, x)
    np.testing.assert_array_equal(op(t).data, oracle(x))


@pytest.mark.parametrize("shape,op,oracle", [c[1:] for c in SHAPE_OPS if c[1] == (2, 3, 4)],
                         ids=[c[0] for c in SHAPE_OPS if c[1] == (2, 3, 4)])
def test_shape_ops_of_a_non_contiguous_input(shape, op, oracle, rng):
    x = rng.standard_normal((4, 3, 2)).transpose(2, 1, 0)   # a (2, 3, 4) leaf with reversed strides
    gradcheck(op, x)
    gradcheck(lambda t: op(t * 1.0), x)
    np.testing.assert_array_equal(op(Tensor(x)).data, oracle(x))


def test_shape_ops_chained_and_used_twice(rng):
    x = rng.standard_normal((2, 3, 4))
    gradcheck(lambda t: t.transpose(0, 1).reshape(3, 8) * t.permute(1, 0, 2).flatten(1), x)
    gradcheck(lambda t: t.unsqueeze(1).expand(2, 5, 3, 4).sum(1) + t, x)


def test_views_share_memory_with_their_input():
    t = Tensor(np.arange(12.0).reshape(3, 4))
    for view in (t.reshape(4, 3), t.view(12), t.transpose(0, 1), t.T, t.unsqueeze(0), t.flatten(), t.expand(2, 3, 4),
                 t.permute(1, 0)):
        assert np.shares_memory(view.data, t.data)


@pytest.mark.parametrize("op,pattern", [
    (lambda t: t.reshape(4, 2), r"reshape: .*\(2, 3\).*\(4, 2\)"),
    (lambda t: t.view(5), r"reshape: .*\(2, 3\).*\(5,\)"),
    (lambda t: t.reshape(-1, -1), r"reshape: only one dimension can be -1"),
    (lambda t: t.transpose(0, 2), r"transpose: dimension 2 is out of range for a tensor of 2 dimensions"),
    (lambda t: t.transpose(-3, 0), r"transpose: dimension -3 is out of range for a tensor of 2 dimensions"),
    (lambda t: t.permute(0, 0), r"permute: \(0, 0\) is not a permutation .*\(2, 3\)"),
    (lambda t: t.permute(0, 1, 2), r"permute: \(0, 1, 2\) is not a permutation .*\(2, 3\)"),
    (lambda t: t.squeeze(3), r"squeeze: dimension 3 is out of range for a tensor of 2 dimensions"),
    (lambda t: t.unsqueeze(4), r"unsqueeze: dimension 4 is out of range for a tensor of 2 dimensions"),
    (lambda t: t.flatten(2), r"flatten: dimension 2 is out of range for a tensor of 2 dimensions"),
    (lambda t: t.flatten(1, 0), r"flatten: start_dim 1 comes after end_dim 0"),
    (lambda t: t.expand(4, 3), r"expand: .*\(2, 3\).*\(4, 3\)"),
    (lambda t: t.expand(3), r"expand: .*\(3,\) has fewer dimensions .*\(2, 3\)"),
    (lambda t: t.expand(-1, 2, 3), r"expand: -1 .*new leading dimension 0"),
], ids=["reshape", "view", "two -1", "transpose", "transpose neg", "permute repeat", "permute length", "squeeze",
        "unsqueeze", "flatten range", "flatten order", "expand", "expand fewer", "expand -1 new"])
def test_shape_errors_name_the_op_and_the_shapes(op, pattern):
    with pytest.raises((ValueError, IndexError), match=pattern):
        op(Tensor(np.ones((2, 3))))
