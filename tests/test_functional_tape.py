"""The functional ops on Tensors (the recorded path): float64 central differences of every op, with strided
inputs (a transpose, a slice) reaching the C++ kernels, one weight used twice, and arrays in -> arrays out
unchanged."""

import numpy as np
import pytest

from nntrain import Tensor
from nntrain import functional as F

from reference.tensor_gradcheck import gradcheck


def away_from_kinks(x):
    return np.where(np.abs(x) < 1e-3, 0.1, x)


ACTIVATIONS = [("relu", F.relu), ("leaky_relu", lambda x: F.leaky_relu(x, 0.1)), ("elu", lambda x: F.elu(x, 1.3)),
               ("sigmoid", F.sigmoid), ("tanh", F.tanh), ("gelu", F.gelu), ("gelu tanh", lambda x: F.gelu(x, "tanh")),
               ("relu method", lambda x: x.relu()), ("sigmoid method", lambda x: x.sigmoid()),
               ("tanh method", lambda x: x.tanh())]


@pytest.mark.parametrize("name,op", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_activations_on_contiguous_and_strided_inputs(name, op, rng):
    x = away_from_kinks(rng.standard_normal((4, 6)))
    gradcheck(op, x)
    gradcheck(lambda t: op(t.T), x)             # a transposed view reaches the kernel
    gradcheck(lambda t: op(t[:, ::2]), x)       # a strided slice
    gradcheck(op, x.T)                          # a leaf that is itself a strided view
    gradcheck(lambda t: op(t) * op(t * 2.0), x)  # used twice
    gradcheck(op, np.asarray(away_from_kinks(rng.standard_normal(()))))  # 0-d


@pytest.mark.parametrize("dim", [0, 1, -1, 2])
@pytest.mark.parametrize("log", [False, True])
def test_softmax_and_log_softmax_over_any_dim(dim, log, rng):
    op = F.log_softmax if log else F.softmax
    x = rng.standard_normal((3, 4, 5))
    gradcheck(lambda t: op(t, dim), x)
    gradcheck(lambda t: op(t.transpose(0, 2), dim, temperature=1.7), x)
    gradcheck(lambda t: (t.log_softmax(dim) if log else t.softmax(dim)), x)


def test_softmax_of_a_vector_and_rows_sum_to_one(rng):
    x = rng.standard_normal(5)
    gradcheck(lambda t: F.softmax(t, 0), x)
    for dim in (0, 1, -1):
        y = F.softmax(Tensor(rng.standard_normal((3, 4))), dim)
        np.testing.assert_allclose(y.data.sum(dim), 1.0)


def test_softmax_dim_errors():
    with pytest.raises(IndexError, match="softmax: dim 2 is out of range"):
        F.softmax(Tensor(np.ones((2, 3))), 2)
    with pytest.raises(TypeError, match="dim must be an int"):
        F.softmax(Tensor(np.ones((2, 3))), 1.5)


def test_linear(rng):
    x, w, b = rng.standard_normal((5, 4)), rng.standard_normal((3, 4)), rng.standard_normal(3)
    gradcheck(F.linear, x, w, b)
    gradcheck(F.linear, x, w)
    gradcheck(lambda x, w, b: F.linear(x.T, w.T, b), x.T.copy(), w.T.copy(), b)   # transposed views into the kernel
    gradcheck(F.linear, x.T.copy().T, w[:, ::1].T.copy().T, b)                    # strided leaves
    gradcheck(lambda x, w: F.linear(F.linear(x, w).tanh(), w), rng.standard_normal((5, 3)), rng.standard_normal((3, 3)))


@pytest.mark.parametrize("shape", [(4,), (2, 3, 4), (2, 1, 3, 4)])
def test_linear_over_leading_dims_as_pytorch(shape, rng):
    x, w, b = rng.standard_normal(shape), rng.standard_normal((3, 4)), rng.standard_normal(3)
    gradcheck(F.linear, x, w, b)
    out = F.linear(Tensor(x), Tensor(w), Tensor(b))
    assert out.shape == shape[:-1] + (3,)
    np.testing.assert_allclose(out.data, x @ w.T + b)
    np.testing.assert_allclose(F.linear(x, w, b), x @ w.T + b)   # arrays in, arrays out


@pytest.mark.parametrize("stride,padding,dilation", [(1, 0, 1), (2, 1, 1), (1, 1, 2)])
def test_conv2d(stride, padding, dilation, rng):
    x, w, b = rng.standard_normal((2, 2, 6, 5)), rng.standard_normal((3, 2, 3, 3)), rng.standard_normal(3)
    gradcheck(lambda x, w, b: F.conv2d(x, w, b, stride, padding, dilation), x, w, b)
    gradcheck(lambda x, w: F.conv2d(x.transpose(2, 3), w, None, stride, padding, dilation), x, w)
    gradcheck(lambda x, w: F.conv2d(x, w, None, stride, padding, dilation), x[:, :, :, ::-1], w.transpose(0, 1, 3, 2))


def test_conv2d_weight_used_twice(rng):
    x, w = rng.standard_normal((2, 3, 5, 5)), rng.standard_normal((3, 3, 3, 3))
    gradcheck(lambda x, w: F.conv2d(F.conv2d(x, w, padding=1).tanh(), w, padding=1), x, w)


@pytest.mark.parametrize("kernel,stride,padding", [(2, None, 0), (3, 2, 1)])
def test_pools(kernel, stride, padding, rng):
    x = rng.standard_normal((2, 3, 6, 7))
    gradcheck(lambda t: F.max_pool2d(t, kernel, stride, padding), x)
    gradcheck(lambda t: F.avg_pool2d(t, kernel, stride, padding), x)
    gradcheck(lambda t: F.avg_pool2d(t.transpose(2, 3), kernel, stride, padding, count_include_pad=False), x)
    out, indices = F.max_pool2d(Tensor(x), kernel, stride, padding, return_indices=True)
    assert not indices.requires_grad and indices.dtype.kind == "i"


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 2, 2)])
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("relu", [False, True])
def test_batch_norm(shape, training, relu, rng):
    c = shape[1]
    x = rng.standard_normal(shape) + 0.5
    mean, var = rng.standard_normal(c) * 0.1, rng.random(c) + 0.5
    gradcheck(lambda x, w, b: F.batch_norm(x, mean.copy(), var.copy(), w, b, training=training, relu=relu), x,
              rng.standard_normal(c), rng.standard_normal(c), tol=1e-5)
    gradcheck(lambda x: F.batch_norm(x, None if training else mean, None if training else var, training=training), x,
              tol=1e-5)


def test_dropout(rng):
    x = rng.standard_normal((5, 6))
    gradcheck(lambda t: F.dropout(t, 0.4, seed=11), x)
    gradcheck(lambda t: F.dropout(t.T, 0.4, seed=11), x)
    t = Tensor(x, requires_grad=True)
    assert F.dropout(t, 0.4, training=False) is t


@pytest.mark.parametrize("label_smoothing", [0.0, 0.15])
def test_cross_entropy(label_smoothing, rng):
    logits = rng.standard_normal((5, 4))
    labels = rng.integers(0, 4, 5)
    probs = rng.dirichlet(np.ones(4), 5)
    gradcheck(lambda t: F.cross_entropy(t, labels, label_smoothing=label_smoothing), logits)
    gradcheck(lambda t: F.cross_entropy(t, Tensor(labels), label_smoothing=label_smoothing), logits)
    gradcheck(lambda t: F.cross_entropy(t, probs, label_smoothing=label_smoothing), logits)
    gradcheck(lambda t: F.cross_entropy(t.T, labels), logits.T.copy())
    gradcheck(lambda t: F.cross_entropy(t, labels) * 3.0 + F.cross_entropy(t * 2.0, labels), logits)


def test_mse_loss(rng):
    pred, target = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    gradcheck(F.mse_loss, pred, target)
    gradcheck(lambda p: F.mse_loss(p.T, target.T), pred)


def test_losses_of_arrays_stay_numbers(rng):
    logits = rng.standard_normal((5, 4)).astype(np.float32)
    loss = F.cross_entropy(logits, rng.integers(0, 4, 5))
    assert isinstance(loss, float)
    assert isinstance(F.mse_loss(logits, logits * 0), float)
    assert type(F.relu(logits)) is np.ndarray and type(F.softmax(logits, 0)) is np.ndarray
