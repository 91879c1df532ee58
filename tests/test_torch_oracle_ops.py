"""PyTorch as the oracle of every Tensor op and every functional op on Tensors: forward values and the gradients
of a random upstream gradient agree to 1e-4 relative in float32 (relative to the largest magnitude of PyTorch's
result, elementwise). Skips when PyTorch is not installed (a test oracle only: pip install torch==2.13.0)."""

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="PyTorch is not installed (a test oracle only: pip install torch==2.13.0)")
tF = torch.nn.functional

import nntrain  # noqa: E402
from nntrain import Tensor  # noqa: E402
from nntrain import functional as F  # noqa: E402

pytestmark = pytest.mark.torch

RTOL = 1e-4


def assert_close(actual, expected, what, rtol=RTOL):
    expected = np.asarray(expected, dtype=np.float64)
    actual = np.asarray(actual, dtype=np.float64)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape}, PyTorch {expected.shape}"
    if expected.size == 0:
        return
    scale = max(float(np.abs(expected).max()), 1e-30)
    err = float(np.abs(actual - expected).max()) / scale
    assert err <= rtol, f"{what}: relative error {err:.3g} > {rtol}"


def _flat(out):
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in _flat(o)]
    return [out]


def compare(nn_fn, torch_fn, *arrays, rtol=RTOL, seed=0):
    """Runs nn_fn on nntrain Tensors and torch_fn on torch tensors made from the same arrays (float arrays
    require a gradient; integer arrays are constants), back-propagates the same random upstream gradient into
    every floating output, and compares outputs and input gradients."""
    nn_in = [Tensor(a.copy(), requires_grad=True) if a.dtype.kind == "f" else a for a in arrays]
    th_in = [torch.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    nn_out, th_out = _flat(nn_fn(*nn_in)), _flat(torch_fn(*th_in))
    assert len(nn_out) == len(th_out)
    rng = np.random.default_rng(seed)
    nn_total, th_total = None, None
    for i, (a, b) in enumerate(zip(nn_out, th_out)):
        assert isinstance(a, Tensor), f"output {i} is a {type(a).__name__}, not a Tensor"
        assert a.dtype == b.detach().numpy().dtype, f"output {i}: dtype {a.dtype}, PyTorch {b.dtype}"
        assert_close(a.data, b.detach().numpy(), f"output {i}", rtol)
        if b.dtype.is_floating_point and b.requires_grad:
            g = rng.standard_normal(b.shape).astype(np.float32)
            nn_term, th_term = (a * Tensor(g)).sum(), (b * torch.tensor(g)).sum()
            nn_total = nn_term if nn_total is None else nn_total + nn_term
            th_total = th_term if th_total is None else th_total + th_term
    if th_total is None:
        return
    nn_total.backward()
    th_total.backward()
    for i, (a, b) in enumerate(zip(nn_in, th_in)):
        if isinstance(a, Tensor):
            expected = np.zeros(b.shape, np.float32) if b.grad is None else b.grad.numpy()
            actual = np.zeros(a.shape, np.float32) if a.grad is None else a.grad
            assert a.grad is None or a.grad.dtype == np.float32
            assert_close(actual, expected, f"gradient of input {i}", rtol)


@pytest.fixture
def r(rng):
    return lambda *shape: rng.standard_normal(shape).astype(np.float32)


# ---- Tensor ops --------------------------------------------------------------------------------------------------
BINARY = [("add", lambda a, b: a + b), ("sub", lambda a, b: a - b), ("mul", lambda a, b: a * b),
          ("div", lambda a, b: a / (b * b + 0.5)), ("mixed", lambda a, b: (a - b) * a / (1.0 + b * b) + 2.0 * b)]


@pytest.mark.parametrize("sa,sb", [((3, 4), (3, 4)), ((2, 3, 4), (4,)), ((3, 1, 4), (5, 1)), ((), (2, 3))])
@pytest.mark.parametrize("name,op", BINARY, ids=[b[0] for b in BINARY])
def test_arithmetic(name, op, sa, sb, r):
    compare(op, op, r(*sa), r(*sb))


def test_unary_minus_pow_and_reflected(r):
    compare(lambda x: -x ** 3 + 2.0 ** x - 1.0 / (x * x + 1.0) + (x * x + 0.1) ** -0.5,
            lambda x: -x ** 3 + 2.0 ** x - 1.0 / (x * x + 1.0) + (x * x + 0.1) ** -0.5, r(4, 5))


@pytest.mark.parametrize("sa,sb", [((3, 4), (4, 5)), ((2, 3, 4), (4, 5)), ((2, 1, 3, 4), (5, 4, 2)), ((4,), (4, 5)),
                                   ((3, 4), (4,)), ((4,), (4,)), ((64, 96), (96, 48))])
def test_matmul(sa, sb, r):
    compare(lambda a, b: a @ b, lambda a, b: a @ b, r(*sa), r(*sb))


def test_matmul_of_transposes(r):
    compare(lambda a, b: a.T @ b.transpose(0, 1), lambda a, b: a.T @ b.transpose(0, 1), r(5, 3), r(6, 5))


UNARY = [("exp", lambda t: t.exp()), ("log", lambda t: (t * t + 0.1).log()), ("sqrt", lambda t: (t * t + 0.1).sqrt()),
         ("abs", lambda t: t.abs()), ("clamp", lambda t: t.clamp(-0.5, 0.7)), ("clamp min", lambda t: t.clamp(min=0.2)),
         ("clamp max", lambda t: t.clamp(max=-0.1)), ("relu", lambda t: t.relu()), ("sigmoid", lambda t: t.sigmoid()),
         ("tanh", lambda t: t.tanh())]


@pytest.mark.parametrize("name,op", UNARY, ids=[u[0] for u in UNARY])
def test_elementwise(name, op, r):
    compare(op, op, r(3, 5))


REDUCTIONS = [("sum", lambda t: t.sum()), ("sum dim", lambda t: t.sum(1)), ("sum dims keep", lambda t: t.sum((0, 2), keepdim=True)),
              ("mean", lambda t: t.mean()), ("mean dim", lambda t: t.mean(-1, keepdim=True)),
              ("amax", lambda t: t.amax(1)), ("amin", lambda t: t.amin((0, 1))), ("max", lambda t: t.max()),
              ("min", lambda t: t.min())]


@pytest.mark.parametrize("name,op", REDUCTIONS, ids=[u[0] for u in REDUCTIONS])
def test_reductions(name, op, r):
    compare(op, op, r(3, 4, 5))


@pytest.mark.parametrize("dim,keepdim", [(0, False), (1, True), (-1, False)])
@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_along_a_dim_with_indices(name, dim, keepdim, r):
    compare(lambda t: tuple(getattr(t, name)(dim, keepdim=keepdim)),
            lambda t: tuple(getattr(t, name)(dim, keepdim=keepdim)), r(3, 4, 5))


def test_ties_in_full_max_and_amax():
    x = np.array([[1.0, 4.0], [4.0, 4.0]], np.float32)
    compare(lambda t: (t.max(), t.amax(0), t.amin(1)), lambda t: (t.max(), t.amax(0), t.amin(1)), x)


SHAPES = [("reshape", lambda t: t.reshape(4, 6)), ("view -1", lambda t: t.view(-1, 3)), ("flatten", lambda t: t.flatten(1)),
          ("transpose", lambda t: t.transpose(0, 2)), ("permute", lambda t: t.permute(2, 0, 1)),
          ("unsqueeze", lambda t: t.unsqueeze(1)), ("squeeze", lambda t: t.unsqueeze(0).squeeze(0)),
          ("expand", lambda t: t[:, :1].expand(2, 5, 4)), ("T", lambda t: t[0].T)]


@pytest.mark.parametrize("name,op", SHAPES, ids=[s[0] for s in SHAPES])
def test_shape_ops(name, op, r):
    compare(lambda t: op(t) * 1.0, lambda t: op(t) * 1.0, r(2, 3, 4))


INDICES = [("basic", lambda t: t[1:, ::2]), ("int", lambda t: t[1]), ("negative step", lambda t: t.flip(0) if isinstance(t, torch.Tensor) else t[::-1]),
           ("int array repeated", lambda t: t[[0, 2, 0, 0]]), ("two arrays", lambda t: t[[0, 2, 0], [1, 1, 1]]),
           ("array and slice", lambda t: t[:, [0, 3, 3]]), ("none and ellipsis", lambda t: t[None, ..., 1])]


@pytest.mark.parametrize("name,op", INDICES, ids=[i[0] for i in INDICES])
def test_indexing(name, op, r):
    compare(op, op, r(3, 4))


def test_index_with_a_tensor_of_indices_and_a_mask(r):
    x = r(4, 3)
    idx = np.array([3, 3, 1])
    compare(lambda t, i: t[i] * t[t.data > 0].sum(), lambda t, i: t[i] * t[t > 0].sum(), x, idx)


def test_setitem_and_in_place(r):
    def f(x, v):
        y = x * 2
        y[:, 1] = v
        y *= v.sum()
        y += 1.0
        return y

    compare(f, f, r(3, 4), r(3))


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cat_and_stack(dim, r):
    compare(lambda a, b: (nntrain.cat([a, b, a], dim), nntrain.stack([a, b], dim)),
            lambda a, b: (torch.cat([a, b, a], dim), torch.stack([a, b], dim)), r(2, 3), r(2, 3))


@pytest.mark.parametrize("size,dim", [(2, 1), ([1, 3, 1], 1), (3, 0)])
def test_split(size, dim, r):
    compare(lambda t: t.split(size, dim), lambda t: t.split(size, dim), r(4, 5))


@pytest.mark.parametrize("chunks,dim", [(3, 0), (2, 1), (5, 0)])
def test_chunk(chunks, dim, r):
    compare(lambda t: t.chunk(chunks, dim), lambda t: t.chunk(chunks, dim), r(7, 4))


def test_a_weight_used_twice_and_two_branches(r):
    def f(x, w):
        h = (x @ w).tanh()
        return (h @ w).relu() + h * 0.5

    compare(f, f, r(5, 4), r(4, 4))


# ---- functional ops ----------------------------------------------------------------------------------------------
ACTIVATIONS = [
    ("relu", F.relu, tF.relu), ("leaky_relu", lambda x: F.leaky_relu(x, 0.2), lambda x: tF.leaky_relu(x, 0.2)),
    ("elu", lambda x: F.elu(x, 0.7), lambda x: tF.elu(x, 0.7)), ("sigmoid", F.sigmoid, torch.sigmoid),
    ("tanh", F.tanh, torch.tanh), ("gelu", F.gelu, tF.gelu),
    ("gelu tanh", lambda x: F.gelu(x, "tanh"), lambda x: tF.gelu(x, approximate="tanh")),
]


@pytest.mark.parametrize("name,ours,theirs", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
@pytest.mark.parametrize("layout", ["contiguous", "transposed"])
def test_activations(name, ours, theirs, layout, r):
    x = r(6, 7) * 3
    if layout == "transposed":  # a strided view reaches the kernel
        compare(lambda t: ours(t.T), lambda t: theirs(t.T), x)
    else:
        compare(ours, theirs, x)


@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("temperature", [1.0, 2.5])
@pytest.mark.parametrize("log", [False, True])
def test_softmax_and_log_softmax(dim, temperature, log, r):
    ours = F.log_softmax if log else F.softmax
    theirs = tF.log_softmax if log else tF.softmax
    compare(lambda t: ours(t, dim, temperature=temperature), lambda t: theirs(t / temperature, dim), r(4, 5, 3) * 3)
    compare(lambda t: ours(t.transpose(0, 1), dim, temperature=temperature),
            lambda t: theirs(t.transpose(0, 1) / temperature, dim), r(4, 5, 3))


@pytest.mark.parametrize("bias", [True, False])
def test_linear(bias, r):
    args = (r(8, 5), r(3, 5)) + ((r(3),) if bias else ())
    compare(lambda *a: F.linear(*a), lambda *a: tF.linear(*a), *args)
    compare(lambda x, w: F.linear(x.T, w), lambda x, w: tF.linear(x.T, w), r(5, 8), r(3, 5))


@pytest.mark.parametrize("shape", [(5,), (2, 4, 5)])
def test_linear_over_leading_dims(shape, r):
    compare(F.linear, tF.linear, r(*shape), r(3, 5), r(3))


@pytest.mark.parametrize("stride,padding,dilation,bias", [(1, 0, 1, True), (2, 1, 1, False), (1, 2, 2, True), ((2, 1), (0, 1), 1, True)])
def test_conv2d(stride, padding, dilation, bias, r):
    args = (r(2, 3, 9, 8), r(4, 3, 3, 3)) + ((r(4),) if bias else ())
    compare(lambda *a: F.conv2d(*a, stride=stride, padding=padding, dilation=dilation),
            lambda *a: tF.conv2d(*a, stride=stride, padding=padding, dilation=dilation), *args)


def test_conv2d_of_a_non_contiguous_input(r):
    compare(lambda x, w: F.conv2d(x.transpose(2, 3), w, padding=1), lambda x, w: tF.conv2d(x.transpose(2, 3), w, padding=1),
            r(2, 3, 7, 6), r(4, 3, 3, 3))


@pytest.mark.parametrize("kernel,stride,padding", [(2, None, 0), (3, 2, 1), ((3, 2), (1, 2), (1, 0))])
def test_max_pool2d(kernel, stride, padding, r):
    compare(lambda x: F.max_pool2d(x, kernel, stride, padding), lambda x: tF.max_pool2d(x, kernel, stride, padding),
            r(2, 3, 8, 7))


@pytest.mark.parametrize("kernel,stride,padding,count_include_pad", [(2, None, 0, True), (3, 2, 1, True), (3, 2, 1, False),
                                                                     ((3, 2), (1, 2), (1, 0), False)])
def test_avg_pool2d(kernel, stride, padding, count_include_pad, r):
    compare(lambda x: F.avg_pool2d(x, kernel, stride, padding, count_include_pad=count_include_pad),
            lambda x: tF.avg_pool2d(x, kernel, stride, padding, count_include_pad=count_include_pad), r(2, 3, 8, 7))


@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 5, 5)])
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm(shape, training, r):
    c = shape[1]
    stats = {"ours": (np.zeros(c, np.float32) + 0.1, np.ones(c, np.float32) * 1.5)}
    stats["torch"] = tuple(torch.tensor(s.copy()) for s in stats["ours"])
    stats["ours"] = tuple(s.copy() for s in stats["ours"])
    compare(lambda x, w, b: F.batch_norm(x, *stats["ours"], w, b, training=training, momentum=0.2, eps=1e-3),
            lambda x, w, b: tF.batch_norm(x, *stats["torch"], w, b, training=training, momentum=0.2, eps=1e-3),
            r(*shape) * 2 + 1, r(c), r(c))
    for ours, theirs in zip(stats["ours"], stats["torch"]):   # running statistics moved the same way
        assert_close(ours, theirs.numpy(), "running statistics")


def test_dropout_in_eval_is_the_identity_and_in_training_scales_the_kept(r):
    compare(lambda x: F.dropout(x, 0.3, training=False) * 2, lambda x: tF.dropout(x, 0.3, training=False) * 2, r(4, 5))
    x = Tensor(r(50, 40), requires_grad=True)
    y = F.dropout(x, 0.3, seed=7)
    kept = y.data != 0
    np.testing.assert_allclose(y.data[kept], x.data[kept] / 0.7, rtol=1e-6)
    y.sum().backward()
    np.testing.assert_allclose(x.grad, kept / np.float32(0.7), rtol=1e-6)


@pytest.mark.parametrize("label_smoothing", [0.0, 0.2])
def test_cross_entropy_with_labels(label_smoothing, r):
    labels = np.array([0, 3, 1, 1, 2])
    compare(lambda x, y: F.cross_entropy(x, y, label_smoothing=label_smoothing),
            lambda x, y: tF.cross_entropy(x, y, label_smoothing=label_smoothing), r(5, 4) * 3, labels)


@pytest.mark.parametrize("label_smoothing", [0.0, 0.1])
def test_cross_entropy_with_probability_targets(label_smoothing, rng, r):
    probs = rng.dirichlet(np.ones(4), size=5).astype(np.float32)
    compare(lambda x: F.cross_entropy(x, probs, label_smoothing=label_smoothing),
            lambda x: tF.cross_entropy(x, torch.tensor(probs), label_smoothing=label_smoothing), r(5, 4) * 3)


def test_mse_loss(r):
    compare(lambda p, t: F.mse_loss(p, t), lambda p, t: tF.mse_loss(p, t), r(6, 3), r(6, 3))


def test_a_small_network_end_to_end(r):
    def f(x, w1, b1, w2, gamma, beta, labels, lib):
        conv, bn, pool, lin, ce = ((F.conv2d, F.batch_norm, F.max_pool2d, F.linear, F.cross_entropy) if lib == "ours"
                                   else (tF.conv2d, tF.batch_norm, tF.max_pool2d, tF.linear, tF.cross_entropy))
        h = conv(x, w1, b1, padding=1).tanh()   # (a bias straight before batch norm would get a zero gradient)
        h = bn(h, None, None, gamma, beta, training=True).relu()
        h = pool(h, 2).flatten(1)
        return ce(lin(h, w2), labels)

    arrays = (r(4, 2, 6, 6), r(3, 2, 3, 3), r(3), r(5, 27), r(3) + 1, r(3), np.array([0, 4, 2, 1]))
    compare(lambda *a: f(*a, "ours"), lambda *a: f(*a, "torch"), *arrays)
