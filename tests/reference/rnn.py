"""NumPy oracles of the recurrent cells (float64), straight from PyTorch's equations."""

import numpy as np


def _sigmoid(v):
    return 1 / (1 + np.exp(-v))


def lstm_cell(x, h, c, w_ih, w_hh, b_ih, b_hh):
    gates = x @ w_ih.T + b_ih + h @ w_hh.T + b_hh
    i, f, g, o = np.split(gates, 4, axis=1)
    c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
    return _sigmoid(o) * np.tanh(c), c


def gru_cell(x, h, w_ih, w_hh, b_ih, b_hh):
    x_r, x_z, x_n = np.split(x @ w_ih.T + b_ih, 3, axis=1)
    h_r, h_z, h_n = np.split(h @ w_hh.T + b_hh, 3, axis=1)
    r, z = _sigmoid(x_r + h_r), _sigmoid(x_z + h_z)
    n = np.tanh(x_n + r * h_n)
    return (1 - z) * n + z * h


def lstm(x, weights, hidden):
    """x (T, N, I); weights: per layer (w_ih, w_hh, b_ih, b_hh). Returns output, (h_n, c_n)."""
    hs, cs = [], []
    for w_ih, w_hh, b_ih, b_hh in weights:
        h = c = np.zeros((x.shape[1], hidden))
        out = []
        for t in range(x.shape[0]):
            h, c = lstm_cell(x[t], h, c, w_ih, w_hh, b_ih, b_hh)
            out.append(h)
        x = np.stack(out)
        hs.append(h)
        cs.append(c)
    return x, (np.stack(hs), np.stack(cs))


def gru(x, weights, hidden):
    hs = []
    for w_ih, w_hh, b_ih, b_hh in weights:
        h = np.zeros((x.shape[1], hidden))
        out = []
        for t in range(x.shape[0]):
            h = gru_cell(x[t], h, w_ih, w_hh, b_ih, b_hh)
            out.append(h)
        x = np.stack(out)
        hs.append(h)
    return x, np.stack(hs)
