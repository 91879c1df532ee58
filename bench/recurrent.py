"""One LSTM training step (forward over a sequence, backward through time, into the weights' gradients) in
ms: nntrain.nn.LSTM with its fused cell (F.lstm_cell), the same LSTM with the cell written as a dozen
Tensor ops (what the fused kernel replaces), and torch.nn.LSTM; outputs checked against each other first.
Sizes: the lstm_digits example's (8 steps of 8 inputs, batch 32, 64 units) and two larger ones."""

import numpy as np

from nntrain import functional as F
from nntrain import nn
from nntrain._tensor import Tensor

from .peers import torch_or_none
from .timing import best_seconds

# (label, steps T, batch N, inputs I, hidden H)
SIZES = [("digits rows", 8, 32, 8, 64), ("T=32 N=64 H=128", 32, 64, 32, 128), ("T=16 N=128 H=256", 16, 128, 64, 256)]


def _cell_as_tensor_ops(gates, c):
    i, f, g, o = gates.chunk(4, 1)
    c = f.sigmoid() * c + i.sigmoid() * g.tanh()
    return o.sigmoid() * c.tanh(), c


def _step(layer, x, cell):
    """Forward and backward of a one-layer LSTM over x (T, N, I), the cell's elementwise part given."""
    steps, batch, _ = x.shape
    gates_x = F.linear(x.reshape(steps * batch, -1), layer.weight_ih_l0, layer.bias_ih_l0).split(batch, dim=0)
    h = c = np.zeros((batch, layer.hidden_size), np.float32)
    outputs = []
    for t in range(steps):
        h, c = cell(gates_x[t] + F.linear(h, layer.weight_hh_l0, layer.bias_hh_l0), c)
        outputs.append(h)
    return outputs


def measure(label, steps, batch, inputs, hidden, torch, rng):
    layer = nn.LSTM(inputs, hidden, rng=rng)
    x = Tensor(rng.standard_normal((steps, batch, inputs)).astype(np.float32))
    weights = rng.standard_normal((steps, batch, hidden)).astype(np.float32)

    def fused():
        layer.zero_grad()
        out, _ = layer(x)
        (out * weights).sum().backward()
        return out.data

    def unfused():
        layer.zero_grad()
        out = np.stack([h.data for h in _step(layer, x, _cell_as_tensor_ops)])
        sum((h * weights[t]).sum() for t, h in enumerate(_step(layer, x, _cell_as_tensor_ops))).backward()
        return out

    np.testing.assert_allclose(fused(), unfused(), rtol=1e-4, atol=1e-5)

    def unfused_step():  # timed without the extra forward the check above runs
        layer.zero_grad()
        sum((h * weights[t]).sum() for t, h in enumerate(_step(layer, x, _cell_as_tensor_ops))).backward()

    row = {"size": label, "fused_ms": best_seconds(fused) * 1e3, "tensor_ops_ms": best_seconds(unfused_step) * 1e3}
    if torch is not None:
        theirs = torch.nn.LSTM(inputs, hidden)
        theirs.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in layer.state_dict().items()})
        tx, tw = torch.from_numpy(x.data), torch.from_numpy(weights)
        np.testing.assert_allclose(fused(), theirs(tx)[0].detach().numpy(), rtol=1e-4, atol=1e-5)

        def torch_step():
            theirs.zero_grad()
            (theirs(tx)[0] * tw).sum().backward()

        row["torch_ms"] = best_seconds(torch_step) * 1e3
    return row


def run(threads, quick=False):
    torch = torch_or_none(threads)
    rng = np.random.default_rng(0)
    return [measure(*size, torch=torch, rng=rng) for size in (SIZES[:1] if quick else SIZES)]
