"""conv2d forward and backward (input and weight gradients) for the layers of the cnn preset on
Fashion-MNIST-shaped batches of 64, against PyTorch's own convolution kernels, results checked first."""

import numpy as np

from nntrain import functional as F

from .peers import torch_or_none
from .timing import best_seconds

# (label, N, C, H, W, OC, kernel, padding)
LAYERS = [
    ("cnn conv1 1->32 28x28", 64, 1, 28, 28, 32, 3, 1),
    ("cnn conv2 32->64 14x14", 64, 32, 14, 14, 64, 3, 1),
]


def measure(label, n, c, h, w, oc, k, pad, torch, rng):
    x = rng.standard_normal((n, c, h, w)).astype(np.float32)
    weight = (rng.standard_normal((oc, c, k, k)) / np.sqrt(c * k * k)).astype(np.float32)
    y = F.conv2d(x, weight, padding=pad)
    dout = rng.standard_normal(y.shape).astype(np.float32)
    flops = 2.0 * n * oc * y.shape[2] * y.shape[3] * c * k * k  # one of the three products
    rows = []
    ours = {"forward": lambda: F.conv2d(x, weight, padding=pad),
            "backward input": lambda: F.conv2d_backward(dout, x, weight, padding=pad, dweight=False),
            "backward weight": lambda: F.conv2d_backward(dout, x, weight, padding=pad, dx=False)}
    theirs = {}
    if torch is not None:
        tx, tw, tg = torch.from_numpy(x), torch.from_numpy(weight), torch.from_numpy(dout)
        conv_backward = torch.ops.aten.convolution_backward

        def backward(mask):
            return lambda: conv_backward(tg, tx, tw, None, [1, 1], [pad, pad], [1, 1], False, [0, 0], 1, mask)

        theirs = {"forward": lambda: torch.nn.functional.conv2d(tx, tw, padding=pad),
                  "backward input": backward([True, False, False]),
                  "backward weight": backward([False, True, False])}
        np.testing.assert_allclose(y, theirs["forward"]().numpy(), rtol=1e-3, atol=1e-3)
        dx, _, _ = F.conv2d_backward(dout, x, weight, padding=pad, dweight=False)
        np.testing.assert_allclose(dx, theirs["backward input"]()[0].numpy(), rtol=1e-3, atol=1e-3)
        _, dw, _ = F.conv2d_backward(dout, x, weight, padding=pad, dx=False)
        np.testing.assert_allclose(dw, theirs["backward weight"]()[1].numpy(), rtol=1e-3, atol=1e-2)
    for part, fn in ours.items():
        row = {"layer": label, "pass": part, "nntrain_ms": best_seconds(fn) * 1e3}
        row["nntrain_gflops"] = flops / (row["nntrain_ms"] / 1e3) / 1e9
        if part in theirs:
            row["torch_ms"] = best_seconds(theirs[part]) * 1e3
        rows.append(row)
    return rows


def run(threads, quick=False):
    torch = torch_or_none(threads)
    rng = np.random.default_rng(0)
    return [row for layer in LAYERS for row in measure(*layer, torch=torch, rng=rng)]
