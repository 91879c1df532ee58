"""layer_norm (a C++ kernel pair) and embedding (NumPy gather / scatter): oracles, central differences,
thread-count independence, errors."""

import numpy as np
import pytest

from nntrain import _core
from nntrain import functional as F
from nntrain._tensor import Tensor

from conftest import num_threads
from reference import norm as ref
from reference.gradcheck import check_gradients


@pytest.mark.parametrize("shape,normalized", [((4, 6), (6,)), ((2, 3, 5), (5,)), ((2, 3, 4), (3, 4)), ((7,), (7,)),
                                              ((3, 300), (300,))])
@pytest.mark.parametrize("affine", ["both", "weight", "none"])
def test_layer_norm_matches_numpy_and_central_differences(rng, shape, normalized, affine):
    x = rng.standard_normal(shape) * 3 + 2
    w = rng.standard_normal(normalized) if affine != "none" else None
    b = rng.standard_normal(normalized) if affine == "both" else None
    np.testing.assert_allclose(F.layer_norm(x, normalized, w, b), ref.layer_norm(x, len(normalized), w, b),
                               rtol=1e-12, atol=1e-12)
    args = [x] + [a for a in (w, b) if a is not None]

    def fn(x, *wb):
        return F.layer_norm(x, normalized, *wb)

    check_gradients(fn, args, rng)


def test_layer_norm_float32_keeps_digits_for_large_means(rng):
    x = (rng.standard_normal((4, 64)) + 1e4).astype(np.float32)
    np.testing.assert_allclose(F.layer_norm(x, 64), ref.layer_norm(x, 1), atol=2e-2)


def test_layer_norm_does_not_depend_on_threads(rng):
    x = rng.standard_normal((512, 384)).astype(np.float32)
    w, b = rng.standard_normal(384).astype(np.float32), rng.standard_normal(384).astype(np.float32)
    runs = []
    for n in (1, 2):
        with num_threads(n):
            ts = [Tensor(a.copy(), requires_grad=True) for a in (x, w, b)]
            y = F.layer_norm(ts[0], 384, ts[1], ts[2])
            (y * y).sum().backward()
            runs.append([y.data] + [t.grad for t in ts])
    for a, c in zip(*runs):
        np.testing.assert_array_equal(a, c)


def test_layer_norm_kernel_pair_accumulates_and_skips(rng):
    x = rng.standard_normal((3, 5))
    w = rng.standard_normal(5)
    out, mean, rstd = _core.layer_norm_forward(x, w, None, 1e-5)
    np.testing.assert_allclose(mean, x.mean(axis=1), rtol=1e-14)
    np.testing.assert_allclose(rstd, 1 / np.sqrt(x.var(axis=1) + 1e-5), rtol=1e-14)
    dout = rng.standard_normal((3, 5))
    dx, dw, db = F.layer_norm_backward(dout, x, 5, w, mean, rstd)
    dx2, dw2, db2 = F.layer_norm_backward(dout, x, 5, w, mean, rstd, dx=dx.copy(), dweight=False, dbias=db.copy())
    np.testing.assert_allclose(dx2, 2 * dx, rtol=1e-14)
    np.testing.assert_allclose(db2, 2 * db, rtol=1e-14)
    assert dw2 is None


def test_layer_norm_errors():
    x = np.zeros((2, 3, 4), np.float32)
    with pytest.raises(ValueError, match=r"layer_norm: normalized_shape \(3,\) must match the trailing dims of the "
                                         r"input \(2, 3, 4\)"):
        F.layer_norm(x, 3)
    with pytest.raises(ValueError, match=r"layer_norm: weight of shape \(3,\) must have normalized_shape \(4,\)"):
        F.layer_norm(x, 4, np.ones(3, np.float32))
    with pytest.raises(ValueError, match="eps: must be positive"):
        F.layer_norm(x, 4, eps=0)


# ---- embedding ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("index_shape", [(5,), (3, 4), (2, 2, 3), ()])
def test_embedding_gathers_rows_and_scatters_gradients(rng, index_shape):
    weight = rng.standard_normal((6, 3))
    idx = rng.integers(0, 6, index_shape)
    np.testing.assert_array_equal(F.embedding(idx, weight), weight[idx])
    check_gradients(lambda w: F.embedding(idx, w), [weight], rng)


def test_repeated_indices_add_up_and_the_padding_row_gets_nothing():
    w = Tensor(np.arange(12.0).reshape(4, 3), requires_grad=True)
    out = F.embedding(np.array([[1, 1, 2], [0, 1, 2]]), w, padding_idx=2)
    out.sum().backward()
    np.testing.assert_array_equal(w.grad, [[1, 1, 1], [3, 3, 3], [0, 0, 0], [0, 0, 0]])
    w.grad = None
    F.embedding(np.array([3, 3]), w, padding_idx=-1).sum().backward()  # -1 is row 3
    np.testing.assert_array_equal(w.grad, np.zeros((4, 3)))


def test_embedding_errors():
    w = np.zeros((4, 3), np.float32)
    with pytest.raises(IndexError, match="embedding: index 4 is out of range for 4 embeddings"):
        F.embedding(np.array([0, 4]), w)
    with pytest.raises(IndexError, match="embedding: index -1 is out of range"):
        F.embedding(np.array([-1]), w)
    with pytest.raises(TypeError, match="embedding: indices must be integers, got float64"):
        F.embedding(np.array([0.0]), w)
    with pytest.raises(ValueError, match=r"padding_idx must be an int in \[-4, 4\), got 4"):
        F.embedding(np.array([0]), w, padding_idx=4)
