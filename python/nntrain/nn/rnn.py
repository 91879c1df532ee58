"""Recurrent layers with PyTorch's gate order, parameter names and initialisation:

    LSTM (gates i, f, g, o):   [i f g o] = x W_ih^T + b_ih + h W_hh^T + b_hh
                               i, f, o = sigmoid(.), g = tanh(.);   c' = f c + i g;   h' = o tanh(c')
    GRU (gates r, z, n):       [r z] = sigmoid(x W_i[rz]^T + b_i[rz] + h W_h[rz]^T + b_h[rz])
                               n = tanh(x W_in^T + b_in + r (h W_hn^T + b_hn));   h' = (1 - z) n + z h

Each step is written with Tensor ops (a matmul on the GEMM kernels plus the gates), so the tape
differentiates through time. The input projections x W_ih^T + b_ih of every step are one GEMM per layer,
made before the loop; only h W_hh^T runs per step. The LSTM's gates run as one fused op on a C++ kernel
pair (F.lstm_cell): written with Tensor ops they are a dozen recorded nodes per step, and the fused cell
makes a training step 1.2-1.6x faster (bench/recurrent.py). The GRU's gates stay Tensor ops.

Parameters of layer k: weight_ih_l{k} (G H, in), weight_hh_l{k} (G H, H), bias_ih_l{k}, bias_hh_l{k}
(G = 4 for LSTM, 3 for GRU); the cells drop the suffix. All start U(-1/sqrt(H), 1/sqrt(H)).
"""

import math

import numpy as np

from .. import functional as F
from ..ops import stack
from . import init
from .module import Module, Parameter


def lstm_step(gates_x, h, c, weight_hh, bias_hh):
    """One LSTM step from the input's share of the gates (x W_ih^T + b_ih): returns (h', c')."""
    return F.lstm_cell(gates_x + F.linear(h, weight_hh, bias_hh), c)


def gru_step(gates_x, h, weight_hh, bias_hh):
    """One GRU step from the input's share of the gates (x W_ih^T + b_ih): returns h'."""
    x_r, x_z, x_n = gates_x.chunk(3, 1)
    h_r, h_z, h_n = F.linear(h, weight_hh, bias_hh).chunk(3, 1)
    r, z = (x_r + h_r).sigmoid(), (x_z + h_z).sigmoid()
    n = (x_n + r * h_n).tanh()
    return n + z * (h - n)  # (1 - z) n + z h


class _Recurrent(Module):
    """Registration and initialisation shared by the cells and the layers."""

    _gates = None  # 4 for LSTM, 3 for GRU

    def _add_weights(self, input_size, suffix, bias, dtype):
        g, hidden = self._gates, self.hidden_size
        self.register_parameter(f"weight_ih{suffix}", Parameter(np.empty((g * hidden, input_size), dtype=dtype)))
        self.register_parameter(f"weight_hh{suffix}", Parameter(np.empty((g * hidden, hidden), dtype=dtype)))
        self.register_parameter(f"bias_ih{suffix}", Parameter(np.empty(g * hidden, dtype=dtype)) if bias else None)
        self.register_parameter(f"bias_hh{suffix}", Parameter(np.empty(g * hidden, dtype=dtype)) if bias else None)

    def reset_parameters(self, rng=None):
        """PyTorch's default: every weight and bias U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound, rng)

    @classmethod
    def infer_args(cls, input_shape):
        """input_size: the last dim of the input (features per step)."""
        if not input_shape:
            raise ValueError("expects input (N, ..., features) but receives (N,)")
        return {"input_size": int(input_shape[-1])}

    def _check_sizes(self, input_size, hidden_size):
        if input_size < 1 or hidden_size < 1:
            raise ValueError(f"{type(self).__name__}: sizes must be >= 1, got input_size={input_size}, "
                             f"hidden_size={hidden_size}")
        self.input_size, self.hidden_size = int(input_size), int(hidden_size)


# ---- cells: one step ---------------------------------------------------------------------------------------------

class _Cell(_Recurrent):
    def __init__(self, input_size, hidden_size, bias=True, *, rng=None, dtype=np.float32):
        super().__init__()
        self._check_sizes(input_size, hidden_size)
        self.bias = bool(bias)
        self._add_weights(input_size, "", bias, dtype)
        self.reset_parameters(rng)

    def _batch(self, x):
        """(N, input_size), or (input_size,) for one sample: (x as 2-D, whether to squeeze the result)."""
        if x.ndim not in (1, 2) or x.shape[-1] != self.input_size:
            raise ValueError(f"{type(self).__name__}({self.input_size}, {self.hidden_size}): expected input "
                             f"(N, {self.input_size}) or ({self.input_size},), got {tuple(x.shape)}")
        return (x.reshape(1, -1), True) if x.ndim == 1 else (x, False)

    def _state(self, state, x, name):
        if state is None:
            return np.zeros((x.shape[0], self.hidden_size), dtype=self.weight_ih.dtype)
        state = state.reshape(1, -1) if state.ndim == 1 else state
        if tuple(state.shape) != (x.shape[0], self.hidden_size):
            raise ValueError(f"{type(self).__name__}: {name} must be ({x.shape[0]}, {self.hidden_size}), got "
                             f"{tuple(state.shape)}")
        return state

    def extra_repr(self):
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")


class LSTMCell(_Cell):
    """``cell(x, (h, c))`` -> (h', c'); the state defaults to zeros."""

    _gates = 4

    def forward(self, x, hx=None):
        x, unbatched = self._batch(x)
        h, c = (None, None) if hx is None else hx
        h, c = self._state(h, x, "h"), self._state(c, x, "c")
        h, c = lstm_step(F.linear(x, self.weight_ih, self.bias_ih), h, c, self.weight_hh, self.bias_hh)
        return (h.reshape(-1), c.reshape(-1)) if unbatched else (h, c)


class GRUCell(_Cell):
    """``cell(x, h)`` -> h'; the state defaults to zeros."""

    _gates = 3

    def forward(self, x, hx=None):
        x, unbatched = self._batch(x)
        h = gru_step(F.linear(x, self.weight_ih, self.bias_ih), self._state(hx, x, "hx"), self.weight_hh,
                     self.bias_hh)
        return h.reshape(-1) if unbatched else h


# ---- layers: whole sequences, stacked ----------------------------------------------------------------------------

class _RNN(_Recurrent):
    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, *, rng=None, dtype=np.float32):
        super().__init__()
        name = type(self).__name__
        self._check_sizes(input_size, hidden_size)
        if num_layers < 1:
            raise ValueError(f"{name}: num_layers must be >= 1, got {num_layers}")
        if not 0 <= dropout <= 1:
            raise ValueError(f"{name}: dropout must be in [0, 1], got {dropout}")
        if bidirectional:
            raise ValueError(f"{name}: bidirectional=True is not supported; run a second {name} over the reversed "
                             "sequence (x.flip) and cat the outputs")
        self.num_layers, self.bias, self.batch_first = int(num_layers), bool(bias), bool(batch_first)
        self.dropout, self.bidirectional = float(dropout), False
        self.rng = rng if rng is not None else np.random.default_rng()
        for k in range(self.num_layers):
            self._add_weights(input_size if k == 0 else hidden_size, f"_l{k}", bias, dtype)
        self.reset_parameters(rng)

    def _layer_weights(self, k):
        return tuple(getattr(self, f"{kind}_l{k}") for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))

    def _sequence(self, x):
        """x as (T, N, input_size), and whether it was unbatched (T, input_size)."""
        if x.ndim not in (2, 3) or x.shape[-1] != self.input_size:
            layout = "(N, T, {0})" if self.batch_first else "(T, N, {0})"
            raise ValueError(f"{type(self).__name__}({self.input_size}, {self.hidden_size}): expected input "
                             f"{layout.format(self.input_size)} or (T, {self.input_size}), got {tuple(x.shape)}")
        if x.ndim == 2:
            return x.reshape(x.shape[0], 1, self.input_size), True
        return (x.transpose(0, 1) if self.batch_first else x), False

    def _initial(self, state, batch, unbatched, name):
        """The initial state of every layer (num_layers, N, H), zeros when not given; a list per layer."""
        want = (self.num_layers, batch, self.hidden_size)
        if state is None:
            zeros = np.zeros(want[1:], dtype=self.weight_ih_l0.dtype)
            return [zeros] * self.num_layers
        if unbatched and state.ndim == 2:
            state = state.reshape(self.num_layers, 1, self.hidden_size)
        if tuple(state.shape) != want:
            raise ValueError(f"{type(self).__name__}: {name} must be {want if not unbatched else want[::2]}, got "
                             f"{tuple(state.shape)}")
        return [state[k] for k in range(self.num_layers)]

    def _run(self, x, states):
        """Every layer over the whole sequence; states: per layer, the tuple the step function carries."""
        steps, batch = x.shape[0], x.shape[1]
        finals = []
        for k in range(self.num_layers):
            w_ih, w_hh, b_ih, b_hh = self._layer_weights(k)
            if k > 0 and self.dropout and self.training:
                x = F.dropout(x, self.dropout, training=True, seed=int(self.rng.integers(0, 2**63 - 1)))
            # The input's share of every step's gates in one GEMM, (T N, in) -> (T N, G H), cut into the T steps'
            # (N, G H) by one split: its backward joins the steps' gradients in one pass (indexing step by step
            # would give each step's gradient a zero-filled array of the whole sequence, T^2 work).
            gates_x = F.linear(x.reshape(steps * batch, x.shape[2]), w_ih, b_ih).split(batch, dim=0)
            state, outputs = states[k], []
            for t in range(steps):
                state = self._step(gates_x[t], state, w_hh, b_hh)
                outputs.append(state[0])
            x = stack(outputs, 0)
            finals.append(state)
        return x, finals

    def _output(self, out, unbatched):
        if unbatched:
            return out.reshape(out.shape[0], self.hidden_size)
        return out.transpose(0, 1) if self.batch_first else out

    @staticmethod
    def _final(states, unbatched):
        h = stack(states, 0)
        return h.reshape(h.shape[0], h.shape[2]) if unbatched else h

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        return s


class LSTM(_RNN):
    """``lstm(x, (h_0, c_0))`` -> (output, (h_n, c_n)): output (T, N, H) (or (N, T, H) with batch_first)
    holds the last layer's h at every step; h_n and c_n (num_layers, N, H) the final states; the initial
    states default to zeros."""

    _gates = 4

    @staticmethod
    def _step(gates_x, state, w_hh, b_hh):
        return lstm_step(gates_x, *state, w_hh, b_hh)

    def forward(self, x, hx=None):
        x, unbatched = self._sequence(x)
        h0, c0 = (None, None) if hx is None else hx
        h0 = self._initial(h0, x.shape[1], unbatched, "h_0")
        c0 = self._initial(c0, x.shape[1], unbatched, "c_0")
        out, finals = self._run(x, list(zip(h0, c0)))
        h_n = self._final([h for h, _ in finals], unbatched)
        c_n = self._final([c for _, c in finals], unbatched)
        return self._output(out, unbatched), (h_n, c_n)


class GRU(_RNN):
    """``gru(x, h_0)`` -> (output, h_n), shapes as LSTM's."""

    _gates = 3

    @staticmethod
    def _step(gates_x, state, w_hh, b_hh):
        return (gru_step(gates_x, state[0], w_hh, b_hh),)

    def forward(self, x, hx=None):
        x, unbatched = self._sequence(x)
        h0 = self._initial(hx, x.shape[1], unbatched, "h_0")
        out, finals = self._run(x, [(h,) for h in h0])
        return self._output(out, unbatched), self._final([h for (h,) in finals], unbatched)
