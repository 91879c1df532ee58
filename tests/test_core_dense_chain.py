"""_core.dense_chain_step (cpp/dense_chain.cpp): a chain of Linear layers and activations under mean
cross-entropy in one call equals the separate kernels called in the recorded step's order, bit for bit; counts
correct rows by NumPy's arg-max; writes no gradient for a non-finite loss; refuses bad arguments in one line."""

import numpy as np
import pytest

from nntrain import _core

from conftest import num_threads

# The chain runs the elementwise and GEMM kernels of whichever instruction set is selected.
pytestmark = pytest.mark.usefixtures("isa")

NEEDS_OUTPUT = {"sigmoid", "tanh"}


def separate_kernels(x, labels, ops, weights, biases, label_smoothing=0.0, ignore_index=-100):
    """The same step as one kernel call per op, as nntrain's recorded step makes them."""
    saved, h, w = [], x, iter(zip(weights, biases))
    for kind, param in ops:
        if kind == "linear":
            weight, bias = next(w)
            saved.append((h, weight, bias))
            h = _core.linear_forward(h, weight, bias)
        else:
            out = _core.activation_forward(kind, h, param)
            saved.append((h, out))
            h = out
    loss, probs = _core.cross_entropy_forward(h, labels, label_smoothing, None, ignore_index)
    correct = int((h.argmax(axis=1) == labels).sum())
    grad = np.zeros_like(h)
    _core.cross_entropy_backward(probs, labels, grad, label_smoothing, 1.0, None, ignore_index)
    first = next(i for i, (kind, _) in enumerate(ops) if kind == "linear")
    dweights, dbiases = [], []
    for i in range(len(ops) - 1, first - 1, -1):
        kind, param = ops[i]
        if kind == "linear":
            inp, weight, bias = saved[i]
            dx = None if i == first else np.empty_like(inp)
            dweight = np.empty_like(weight)
            dbias = None if bias is None else np.empty_like(bias)
            _core.linear_backward(grad, inp, weight, dx, dweight, dbias, False)
            dweights.insert(0, dweight)
            dbiases.insert(0, dbias)
            grad = dx
        else:
            inp, out = saved[i]
            dx = np.zeros_like(inp)
            _core.activation_backward(kind, grad, None if kind in NEEDS_OUTPUT else inp,
                                      out if kind in NEEDS_OUTPUT else None, dx, param)
            grad = dx
    return float(np.asarray(loss, dtype=x.dtype)), correct, dweights, dbiases


def chain(rng, widths, activations, dtype, bias=True):
    """(ops, weights, biases) of Linear layers of `widths`, each followed by its entry of `activations` (a
    (kind, parameter) pair, or None for none)."""
    weights = [(rng.standard_normal((o, i)) / np.sqrt(i)).astype(dtype) for i, o in zip(widths, widths[1:])]
    biases = [(rng.standard_normal(o) * 0.1).astype(dtype) if bias else None for o in widths[1:]]
    ops = []
    for activation in activations:
        ops += [("linear", 0.0)] + ([activation] if activation is not None else [])
    return ops, weights, biases


CHAINS = [
    ([784, 256, 128, 10], [("relu", 0.0), ("relu", 0.0), None]),
    ([36, 12, 5], [("leaky_relu", 0.2), None]),
    ([20, 16, 7], [("elu", 0.7), ("sigmoid", 0.0)]),
    ([20, 16, 7], [("tanh", 0.0), None]),
    ([20, 16, 9, 3], [("gelu", 0.0), ("gelu_tanh", 0.0), None]),
]


@pytest.mark.parametrize("widths,activations", CHAINS, ids=lambda c: str(c)[:40])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("threads", [1, 2])
def test_one_call_equals_the_separate_kernels_bit_for_bit(rng, widths, activations, dtype, threads):
    ops, weights, biases = chain(rng, widths, activations, dtype, bias=dtype == np.float32)
    x = rng.standard_normal((64, widths[0])).astype(dtype)
    labels = rng.integers(0, widths[-1], 64)
    labels[::7] = -100
    with num_threads(threads):
        got = _core.dense_chain_step(x, labels, ops, weights, biases, 0.1)
        want = separate_kernels(x, labels, ops, weights, biases, 0.1)
    assert got[:2] == want[:2]
    for a, b in zip(got[2] + got[3], want[2] + want[3]):
        if b is None:
            assert a is None
        else:
            assert a.dtype == b.dtype
            np.testing.assert_array_equal(a, b)


def test_an_activation_before_the_first_linear_gets_no_backward(rng):
    x = rng.standard_normal((5, 4)).astype(np.float32)
    ops = [("tanh", 0.0), ("linear", 0.0), ("relu", 0.0), ("linear", 0.0)]
    weights = [rng.standard_normal((3, 4)).astype(np.float32), rng.standard_normal((2, 3)).astype(np.float32)]
    labels = np.array([0, 1, 1, 0, 1])
    got = _core.dense_chain_step(x, labels, ops, weights, [None, None])
    want = separate_kernels(x, labels, ops, weights, [None, None])
    assert got[:2] == want[:2] and got[3] == [None, None]
    for a, b in zip(got[2], want[2]):
        np.testing.assert_array_equal(a, b)


def test_correct_counts_follow_numpys_arg_max_on_ties():
    x = np.ones((4, 3), np.float32)
    weight = np.zeros((3, 3), np.float32)  # every logit equal: the arg-max is class 0
    loss, correct, _, _ = _core.dense_chain_step(x, np.array([0, 1, 2, 0]), [("linear", 0.0)], [weight], [None])
    assert correct == 2 and loss == pytest.approx(np.log(3), rel=1e-6)


def test_a_non_finite_loss_writes_no_gradient_and_a_nan_logit_is_the_arg_max():
    x = np.ones((2, 3), np.float32)
    weight = np.zeros((3, 3), np.float32)
    bias = np.array([5.0, np.nan, 1.0], np.float32)
    loss, correct, dweights, dbiases = _core.dense_chain_step(x, np.array([1, 0]), [("linear", 0.0)], [weight], [bias])
    assert np.isnan(loss) and correct == 1 and dweights is None and dbiases is None


def test_an_empty_batch_has_a_nan_loss_and_no_gradient():
    loss, correct, dweights, _ = _core.dense_chain_step(np.ones((0, 3), np.float32), np.zeros(0, np.int64),
                                                        [("linear", 0.0)], [np.ones((2, 3), np.float32)], [None])
    assert np.isnan(loss) and correct == 0 and dweights is None  # 0/0, the mean over no rows, as PyTorch


def test_a_loss_beyond_the_dtype_is_reported_as_the_dtype_rounds_it():
    x = np.ones((1, 1), np.float32)
    weight = np.array([[3e38], [-3e38]], np.float32)
    loss, _, dweights, _ = _core.dense_chain_step(x, np.array([1]), [("linear", 0.0)], [weight], [None])
    assert loss == np.inf and dweights is None  # 6e38 in double, Inf in float32, as the recorded step reports


def good_args():
    rng = np.random.default_rng(0)
    return dict(x=rng.standard_normal((4, 3)).astype(np.float32), target=np.array([0, 1, 0, 1]),
                ops=[("linear", 0.0), ("relu", 0.0), ("linear", 0.0)],
                weights=[np.ones((5, 3), np.float32), np.ones((2, 5), np.float32)], biases=[None, np.zeros(2, np.float32)])


@pytest.mark.parametrize("change,message", [
    (dict(x=np.ones(3, np.float32)), "x: expected a 2-D array"),
    (dict(x=np.ones((4, 3), np.int32)), "x: expected a float32 or float64 array"),
    (dict(target=np.array([0, 1, 2, 0])), r"target: label 2 at index 2 is outside \[0, 2\)"),
    (dict(target=np.array([0, 1, 0])), r"target: expected labels of shape \(4,\), got \(3,\)"),
    (dict(target=np.zeros((4, 2), np.float32)), "target: expected int64 class labels"),
    (dict(ops=[("linear", 0.0), ("swish", 0.0), ("linear", 0.0)]), "kind: unknown activation 'swish'"),
    (dict(ops=[("linear", 0.0), "relu", ("linear", 0.0)]), r"ops\[1\]: expected a \(kind, parameter\) pair"),
    (dict(ops=[("relu", 0.0)]), "ops: 1 or more Linear ops but 0 weights|the chain needs at least one 'linear'"),
    (dict(ops=[("linear", 0.0)]), "weights: 2 weights but 1 Linear ops"),
    (dict(ops=[("linear", 0.0)] * 3), "ops: 3 or more Linear ops but 2 weights"),
    (dict(biases=[None]), "weights, biases: one bias"),
    (dict(weights=[np.ones((5, 4), np.float32), np.ones((2, 5), np.float32)]), r"weights\[0\]: expects 4 features but gets 3"),
    (dict(weights=[np.ones((5, 3), np.float32), np.ones((2, 5), np.float64)]), r"weights\[1\]: expected a float32 array"),
    (dict(weights=[np.ones((5, 3), np.float32), [[1.0] * 5] * 2]), r"weights\[1\]: expected a NumPy array"),
    (dict(biases=[None, np.zeros(3, np.float32)]), r"biases\[1\]: expected shape \(2,\), got \(3,\)"),
    (dict(weights=[np.ones((5, 3), np.float32), np.ones((0, 5), np.float32)], biases=[None, None]), "no outputs"),
])
def test_bad_arguments_are_one_line_value_errors(change, message):
    args = good_args()
    args.update(change)
    with pytest.raises(ValueError, match=message) as info:
        _core.dense_chain_step(**args)
    assert "\n" not in str(info.value)
