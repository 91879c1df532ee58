"""The LSTM cell's elementwise part as one op on a C++ kernel pair (cpp/lstm_cell.h): from the gate
pre-activations [i f g o] (N, 4H) and the previous cell state to (h, c). Written with Tensor ops it is a
dozen recorded nodes per step (split, three sigmoids, two tanh, three products, a sum); fused it is one,
which makes an LSTM's training step several times faster at the sizes it is used at (bench/recurrent.py)."""

import numpy as np

from .. import _core
from ..autograd.function import Function


class LSTMCell(Function):
    contiguous_inputs = True

    @staticmethod
    def forward(ctx, gates, c_prev):
        h, c, act = _core.lstm_cell_forward(gates, c_prev)
        ctx.save_for_backward(act, c_prev, c)
        return h, c

    @staticmethod
    def backward(ctx, dh, dc):
        act, c_prev, c = ctx.saved_tensors
        need_gates, need_c_prev = ctx.needs_input_grad
        dgates = np.zeros_like(act)
        dc_prev = np.zeros_like(c_prev) if need_c_prev else None
        _core.lstm_cell_backward(dh, dc, act, c_prev, c, dgates, dc_prev)
        return (dgates if need_gates else None), dc_prev


def lstm_cell(gates, c_prev):
    """(h, c) of one LSTM step: i, f, o = sigmoid, g = tanh of the four quarters of gates (N, 4H) in PyTorch's
    order [i f g o]; c = f c_prev + i g; h = o tanh(c)."""
    shape = np.shape(gates)
    if len(shape) != 2 or shape[1] % 4 or np.shape(c_prev) != (shape[0], shape[1] // 4):
        raise ValueError(f"lstm_cell: expected gates (N, 4H) and c_prev (N, H), got {tuple(np.shape(gates))} and "
                         f"{tuple(np.shape(c_prev))}")
    return LSTMCell.apply(gates, c_prev)
