"""conv2d forward and backward (input and weight gradients) for the layers of the cnn preset on
Fashion-MNIST-shaped batches of 64, by each algorithm nntrain has (im2col + GEMM, Winograd F(2x2, 3x3))
against PyTorch's own convolution kernels, results checked first. The rule behind algorithm="auto"
(conv2d_algorithm in cpp/conv2d.cpp) is read from these rows: "auto" names the one it runs.

"backward weight, kept" is the weight gradient from the transformed input the forward kept (what
training under autograd runs for a Winograd layer); "forward, keeping" is that forward."""

import numpy as np

from nntrain import _core
from nntrain import functional as F

from .timing import interleaved_best_seconds
from .peers import torch_or_none

# (label, N, C, H, W, OC, kernel, padding)
LAYERS = [
    ("cnn conv1 1->32 28x28", 64, 1, 28, 28, 32, 3, 1),
    ("cnn conv2 32->64 14x14", 64, 32, 14, 14, 64, 3, 1),
    ("cnn conv3 64->64 14x14", 64, 64, 14, 14, 64, 3, 1),
    ("cnn conv4 64->128 7x7", 64, 64, 7, 7, 128, 3, 1),
]
# Shapes around the rule's boundary, not in a preset: few input channels, and a small deep layer.
EXTRA_LAYERS = [
    ("8->16 28x28", 64, 8, 28, 28, 16, 3, 1),
    ("64->64 7x7", 64, 64, 7, 7, 64, 3, 1),
]
ALGORITHMS = ("im2col", "winograd")
ROUNDS = 3  # passes over all candidates, interleaved; the best of each is kept


def measure(label, n, c, h, w, oc, k, pad, torch, rng):
    x = rng.standard_normal((n, c, h, w)).astype(np.float32)
    weight = (rng.standard_normal((oc, c, k, k)) / np.sqrt(c * k * k)).astype(np.float32)
    y = F.conv2d(x, weight, padding=pad)
    dout = rng.standard_normal(y.shape).astype(np.float32)
    flops = 2.0 * n * oc * y.shape[2] * y.shape[3] * c * k * k  # one of the three products
    geometry = ((1, 1), (pad, pad), (1, 1))
    algorithms = [a for a in ALGORITHMS if a != "winograd" or (k == 3)]
    fns = {}
    for a in algorithms:
        fns[("forward", a)] = lambda a=a: F.conv2d(x, weight, padding=pad, algorithm=a)
        fns[("backward input", a)] = lambda a=a: F.conv2d_backward(dout, x, weight, padding=pad, dweight=False,
                                                                   algorithm=a)
        fns[("backward weight", a)] = lambda a=a: F.conv2d_backward(dout, x, weight, padding=pad, dx=False,
                                                                    algorithm=a)
    if "winograd" in algorithms:
        _, kept = _core.conv2d_forward(x, weight, None, *geometry, algorithm="winograd", return_transformed=True)
        fns[("forward, keeping", "winograd")] = lambda: _core.conv2d_forward(
            x, weight, None, *geometry, algorithm="winograd", return_transformed=True)
        fns[("backward weight, kept", "winograd")] = lambda: F.conv2d_backward(
            dout, x, weight, padding=pad, dx=False, algorithm="winograd", transformed=kept)
    if torch is not None:
        tx, tw, tg = torch.from_numpy(x), torch.from_numpy(weight), torch.from_numpy(dout)
        conv_backward = torch.ops.aten.convolution_backward

        def backward(mask):
            return lambda: conv_backward(tg, tx, tw, None, [1, 1], [pad, pad], [1, 1], False, [0, 0], 1, mask)

        fns[("forward", "torch")] = lambda: torch.nn.functional.conv2d(tx, tw, padding=pad)
        fns[("backward input", "torch")] = backward([True, False, False])
        fns[("backward weight", "torch")] = backward([False, True, False])
        for a in algorithms:
            np.testing.assert_allclose(F.conv2d(x, weight, padding=pad, algorithm=a),
                                       fns[("forward", "torch")]().numpy(), rtol=1e-3, atol=1e-3)
            dx, _, _ = F.conv2d_backward(dout, x, weight, padding=pad, dweight=False, algorithm=a)
            np.testing.assert_allclose(dx, fns[("backward input", "torch")]()[0].numpy(), rtol=1e-3, atol=1e-3)
            _, dw, _ = F.conv2d_backward(dout, x, weight, padding=pad, dx=False, algorithm=a)
            np.testing.assert_allclose(dw, fns[("backward weight", "torch")]()[1].numpy(), rtol=1e-3, atol=1e-2)
    ms = {key: seconds * 1e3 for key, seconds in interleaved_best_seconds(fns, ROUNDS).items()}
    auto = _core.conv2d_algorithm(x, weight, *geometry)
    rows = []
    for part in ("forward", "backward input", "backward weight", "forward, keeping", "backward weight, kept"):
        if not any(p == part for p, _ in ms):
            continue
        row = {"layer": label, "pass": part, "auto": auto if "," not in part else "winograd"}
        for a in ALGORITHMS:
            row[f"{a}_ms"] = ms.get((part, a))
        row["nntrain_ms"] = row[f"{row['auto']}_ms"]
        row["nntrain_gflops"] = flops / (row["nntrain_ms"] / 1e3) / 1e9
        row["torch_ms"] = ms.get((part.split(",")[0], "torch"))
        rows.append(row)
    return rows


def run(threads, quick=False):
    torch = torch_or_none(threads)
    rng = np.random.default_rng(0)
    layers = LAYERS if quick else LAYERS + EXTRA_LAYERS
    return [row for layer in layers for row in measure(*layer, torch=torch, rng=rng)]
