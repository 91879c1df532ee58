"""The fused LSTM cell (a C++ kernel pair): the NumPy equations, central differences through either output
alone or both, float32 accuracy, thread-count independence, errors."""

import numpy as np
import pytest

from nntrain import functional as F
from nntrain._tensor import Tensor

from conftest import num_threads
from reference.gradcheck import check_gradients


def reference_cell(gates, c_prev):
    h = c_prev.shape[1]
    s = 1 / (1 + np.exp(-gates.astype(np.float64)))
    g = np.tanh(gates[:, 2 * h:3 * h].astype(np.float64))
    c = s[:, h:2 * h] * c_prev + s[:, :h] * g
    return s[:, 3 * h:] * np.tanh(c), c


@pytest.mark.parametrize("n,h", [(1, 1), (3, 5), (4, 300), (0, 3)])
def test_lstm_cell_matches_the_equations(rng, n, h):
    gates, c_prev = rng.standard_normal((n, 4 * h)) * 3, rng.standard_normal((n, h))
    want_h, want_c = reference_cell(gates, c_prev)
    got_h, got_c = F.lstm_cell(gates, c_prev)
    np.testing.assert_allclose(got_h, want_h, rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(got_c, want_c, rtol=1e-14, atol=1e-15)
    h32, c32 = F.lstm_cell(gates.astype(np.float32), c_prev.astype(np.float32))  # fast_exp / fast_tanh
    np.testing.assert_allclose(h32, want_h, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(c32, want_c, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("n,h", [(2, 3), (3, 7), (1, 260)])
@pytest.mark.parametrize("use", ["both", "h", "c"])
def test_lstm_cell_gradients(rng, n, h, use):
    def fn(gates, c_prev):
        h_new, c_new = F.lstm_cell(gates, c_prev)
        return {"both": (h_new, c_new), "h": h_new, "c": c_new}[use]

    check_gradients(fn, [rng.standard_normal((n, 4 * h)) * 2, rng.standard_normal((n, h))], rng)


def test_constant_previous_state_gets_no_gradient(rng):
    gates = Tensor(rng.standard_normal((2, 8)), requires_grad=True)
    h, c = F.lstm_cell(gates, np.zeros((2, 2)))
    (h.sum() + c.sum()).backward()
    assert gates.grad.shape == (2, 8) and np.abs(gates.grad).sum() > 0


def test_lstm_cell_does_not_depend_on_threads(rng):
    gates = rng.standard_normal((4096, 64)).astype(np.float32)
    c_prev = rng.standard_normal((4096, 16)).astype(np.float32)
    runs = []
    for n in (1, 2):
        with num_threads(n):
            g, c = Tensor(gates, requires_grad=True), Tensor(c_prev, requires_grad=True)
            h_new, c_new = F.lstm_cell(g, c)
            (h_new * h_new + c_new).sum().backward()
            runs.append((h_new.data, c_new.data, g.grad, c.grad))
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)


def test_lstm_cell_errors():
    with pytest.raises(ValueError, match=r"lstm_cell: expected gates \(N, 4H\) and c_prev \(N, H\), got \(2, 6\) and "
                                         r"\(2, 1\)"):
        F.lstm_cell(np.zeros((2, 6)), np.zeros((2, 1)))
    with pytest.raises(ValueError, match="c_prev: expected a float64 array, got float32"):
        F.lstm_cell(np.zeros((2, 8)), np.zeros((2, 2), np.float32))
