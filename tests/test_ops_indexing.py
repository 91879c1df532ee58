"""Indexing (basic and integer-array, repeated indices), cat, stack, split and chunk: values against NumPy,
gradients against central differences, and the messages of bad indices and shapes."""

import numpy as np
import pytest

import nntrain
from nntrain import Tensor

from reference.tensor_gradcheck import gradcheck

INDICES = [
    ("int", 1), ("negative int", -1), ("slice", slice(1, None)), ("step", (slice(None), slice(None, None, 2))),
    ("reverse", slice(None, None, -1)), ("ellipsis", (Ellipsis, 0)), ("none", (None, slice(None), 1)),
    ("int array repeated", np.array([0, 2, 0, 0])), ("list repeated", [1, 1, 0]),
    ("two arrays", (np.array([0, 2, 0]), np.array([1, 1, 1]))), ("array and slice", (slice(None), [0, 3, 3])),
    ("2-d index array", np.array([[0, 1], [1, 1]])), ("bool mask", np.array([True, False, True])),
    ("empty", np.array([], dtype=np.int64)), ("scalar element", (1, 2)),
]


@pytest.mark.parametrize("index", [c[1] for c in INDICES], ids=[c[0] for c in INDICES])
def test_getitem_values_and_gradients(index, rng):
    x = rng.standard_normal((3, 4))
    (t,) = gradcheck(lambda t: t[index], x)
    np.testing.assert_array_equal(t[index].data, x[index])


def test_repeated_indices_add_their_gradients():
    t = Tensor(np.zeros(3), requires_grad=True)
    t[np.array([0, 2, 0, 0])].sum().backward()
    np.testing.assert_array_equal(t.grad, [3.0, 0.0, 1.0])


def test_index_given_as_tensors(rng):
    x = rng.standard_normal((3, 4))
    i = Tensor(np.array([2, 2, 0]))
    gradcheck(lambda t: t[i], x)
    gradcheck(lambda t: t[i, Tensor(np.array([0, 1, 3]))], x)
    t = Tensor(x)
    np.testing.assert_array_equal(t[t.argmax(0)].data, x[np.argmax(x, 0)])
    np.testing.assert_array_equal(t[Tensor(x > 0)].data, x[x > 0])


def test_getitem_of_a_transposed_input_and_a_view_of_a_view(rng):
    x = rng.standard_normal((4, 3))
    gradcheck(lambda t: t.T[1:, [0, 0, 2]], x)
    gradcheck(lambda t: t[::2][:, 1:] * t[1::2][:, :2], x)


def test_basic_index_is_a_view():
    t = Tensor(np.arange(6.0).reshape(2, 3))
    assert np.shares_memory(t[0].data, t.data) and np.shares_memory(t[:, 1:].data, t.data)


def test_index_out_of_range_names_the_index_and_shape():
    with pytest.raises(IndexError, match=r"index 5 .*shape \(2, 3\)"):
        Tensor(np.ones((2, 3)))[5]
    with pytest.raises(IndexError, match=r"shape \(2, 3\)"):
        Tensor(np.ones((2, 3)))[np.array([0, 7])]


CAT_CASES = [([(2, 3), (2, 2)], 1), ([(2, 3), (1, 3), (3, 3)], 0), ([(2, 3, 4), (2, 1, 4)], -2), ([(2, 3)], 0),
             ([(0, 3), (2, 3)], 0)]


@pytest.mark.parametrize("shapes,dim", CAT_CASES)
def test_cat(shapes, dim, rng):
    arrays = [rng.standard_normal(s) for s in shapes]
    leaves = gradcheck(lambda *ts: nntrain.cat(list(ts), dim), *arrays)
    np.testing.assert_array_equal(nntrain.cat(leaves, dim).data, np.concatenate(arrays, dim))


def test_cat_of_one_tensor_used_twice_and_with_constants(rng):
    x = rng.standard_normal((2, 3))
    gradcheck(lambda t: nntrain.cat([t, t * 2, t], 0), x)
    gradcheck(lambda t: nntrain.cat([Tensor(np.ones((1, 3))), t], 0), x)


@pytest.mark.parametrize("dim", [0, 1, -1, 2])
def test_stack(dim, rng):
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    ta, tb = gradcheck(lambda a, b: nntrain.stack([a, b, a], dim), a, b)
    np.testing.assert_array_equal(nntrain.stack([ta, tb], dim).data, np.stack([a, b], dim))


def test_cat_and_stack_of_mixed_float_dtypes_give_each_its_own_dtype_back(rng):
    a = Tensor(rng.standard_normal((2, 3)).astype(np.float32), requires_grad=True)
    b = Tensor(rng.standard_normal((1, 3)), requires_grad=True)
    out = nntrain.cat([a.relu(), b], 0)   # the float32 kernel's backward must get a float32 gradient
    assert out.dtype == np.float64
    out.sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64
    a.grad = None
    nntrain.stack([a.relu(), b.expand(2, 3)], 0).sum().backward()
    assert a.grad.dtype == np.float32


@pytest.mark.parametrize("size,dim", [(2, 1), ([1, 3, 1], 1), (3, 0), (5, 1), (1, -1)])
def test_split(size, dim, rng):
    x = rng.standard_normal((3, 5))
    gradcheck(lambda t: t.split(size, dim), x)
    expected = np.split(x, np.cumsum([size] * (x.shape[dim] // size) if isinstance(size, int) else size)[:-1], dim)
    pieces = nntrain.split(Tensor(x), size, dim)
    assert [p.shape for p in pieces][:len(expected)] == [e.shape for e in expected if e.size] or isinstance(size, int)
    np.testing.assert_array_equal(nntrain.cat(list(pieces), dim).data, x)


def test_split_when_only_some_pieces_are_used(rng):
    x = rng.standard_normal((2, 7))
    gradcheck(lambda t: t.split(3, 1)[1], x)
    gradcheck(lambda t: t.split([2, 5], 1)[0] * 2, x)


@pytest.mark.parametrize("chunks,dim", [(3, 0), (2, 1), (7, 0), (1, 1)])
def test_chunk(chunks, dim, rng):
    x = rng.standard_normal((7, 4))
    gradcheck(lambda t: t.chunk(chunks, dim), x)
    pieces = Tensor(x).chunk(chunks, dim)
    expected = np.array_split(x, chunks, dim) if x.shape[dim] % chunks == 0 else None
    if expected is not None:
        assert [p.shape for p in pieces] == [e.shape for e in expected]
    np.testing.assert_array_equal(nntrain.cat(list(pieces), dim).data, x)


@pytest.mark.parametrize("op,pattern", [
    (lambda: nntrain.cat([Tensor(np.ones((2, 3))), Tensor(np.ones((3, 4)))], 0),
     r"cat: .*\(2, 3\).*\(3, 4\).*dim 0.*size 3.*size 4.*tensor 1"),
    (lambda: nntrain.cat([Tensor(np.ones((2, 3))), Tensor(np.ones(3))], 0), r"cat: .*\(2, 3\).*\(3,\).*dimensions"),
    (lambda: nntrain.cat([], 0), r"cat: expected a non-empty sequence"),
    (lambda: nntrain.cat([Tensor(np.ones((2, 3)))], 2), r"cat: dimension 2 is out of range"),
    (lambda: nntrain.stack([Tensor(np.ones((2, 3))), Tensor(np.ones((3, 2)))]), r"stack: .*one shape.*\(2, 3\).*\(3, 2\)"),
    (lambda: nntrain.stack([Tensor(np.ones(3))], 2), r"stack: dimension 2 is out of range"),
    (lambda: Tensor(np.ones((2, 3))).split(1, 5), r"split: dimension 5 is out of range for a tensor of 2 dimensions"),
    (lambda: Tensor(np.ones((2, 3))).split([1, 1], 1), r"split: sizes \[1, 1\] do not add up to the length 3"),
    (lambda: Tensor(np.ones((2, 3))).split(0, 1), r"split: split_size must be >= 1"),
    (lambda: Tensor(np.ones((2, 3))).chunk(0), r"chunk: chunks must be >= 1"),
    (lambda: Tensor(np.ones((2, 3))).chunk(2, -3), r"chunk: dimension -3 is out of range"),
], ids=["cat sizes", "cat ndim", "cat empty", "cat dim", "stack shapes", "stack dim", "split dim", "split sizes",
        "split size 0", "chunk 0", "chunk dim"])
def test_join_and_split_errors(op, pattern):
    with pytest.raises((ValueError, IndexError), match=pattern):
        op()
