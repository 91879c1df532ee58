"""GEMM GFLOP/s: square sizes and the exact products of the mlp and cnn training steps (the im2col form of the
cnn's Winograd layers), against NumPy (OpenBLAS) and PyTorch, each result checked against NumPy before it is
timed. Beside each product computed by panels or blocks: which way round gemm_plan chose (as given, or
turned: C^T = op(B)^T op(A)^T) and the rate the other way round, the evidence for the cost rule in
cpp/gemm.cpp."""

import time

import numpy as np

from nntrain import _core
from nntrain import functional as F

from .peers import numpy_blas, torch_or_none
from .timing import interleaved_best_seconds

ROUNDS = 3  # passes over nntrain and its peers, interleaved; the best of each is kept

# (label, M, N, K, trans_a, trans_b): C (M, N) = op(A) op(B) as the layer computes it.
MLP_SHAPES = [
    ("mlp fc1 forward x.W^T", 64, 256, 784, False, True),
    ("mlp fc1 dW = dy^T.x", 256, 784, 64, True, False),
    ("mlp fc2 forward", 64, 128, 256, False, True),
    ("mlp fc2 dx = dy.W", 64, 256, 128, False, False),
    ("mlp fc2 dW", 128, 256, 64, True, False),
]
# conv1 trains by im2col + GEMM; conv2-4 train by Winograd (cpp/conv2d_winograd.cpp), whose products are its
# own, so their rows are the im2col form of the layer: what F.conv2d(..., algorithm="im2col") multiplies.
CNN_SHAPES = [
    ("cnn conv1 forward (K=9)", 32, 64 * 784, 9, False, False),
    ("cnn conv1 dW", 32, 9, 64 * 784, False, True),
    ("cnn conv2 forward, im2col form", 64, 64 * 196, 288, False, False),
    ("cnn conv2 dW, im2col form", 64, 288, 64 * 196, False, True),
    ("cnn conv2 dcol, im2col form", 288, 64 * 196, 64, True, False),
    ("cnn conv3 forward, im2col form", 64, 64 * 196, 576, False, False),
    ("cnn conv4 forward, im2col form", 128, 64 * 49, 576, False, False),
    ("cnn fc1 forward", 64, 128, 1152, False, True),
]


def _operands(rng, m, n, k, trans_a, trans_b):
    a = rng.standard_normal((k, m) if trans_a else (m, k)).astype(np.float32)
    b = rng.standard_normal((n, k) if trans_b else (k, n)).astype(np.float32)
    return a, b


def measure(label, m, n, k, trans_a, trans_b, torch, rng):
    a, b = _operands(rng, m, n, k, trans_a, trans_b)
    opa, opb = (a.T if trans_a else a), (b.T if trans_b else b)
    want = opa.astype(np.float64) @ opb.astype(np.float64)
    got = F.matmul(a, b, trans_a, trans_b)
    scale = np.sqrt(k)
    assert np.max(np.abs(got - want)) <= 1e-4 * scale * max(1.0, np.abs(want).max() / scale), label
    flops = 2.0 * m * n * k
    fns = {"nntrain": lambda: F.matmul(a, b, trans_a, trans_b), "numpy": lambda: opa @ opb}
    row = {"shape": label, "dims": f"{m}x{n}x{k}"}
    # A large product's first calls settle its way round by timing them: first let the previous product's peers'
    # threads, which spin on after their calls, go idle, so that they do not slow the first trials only.
    time.sleep(0.2)
    for _ in range(_core.GEMM_TUNING_CALLS):
        F.matmul(a, b, trans_a, trans_b)
    plan = _core.gemm_plan(m, n, k, trans_a, trans_b)
    if plan["strategy"] in ("panels", "blocked"):
        row["way"] = "turned" if plan["transposed"] else "as given"
        other, c = ("as_given" if plan["transposed"] else "transposed"), np.empty((m, n), np.float32)
        fns["other_way"] = lambda: _core.gemm(c, a, b, trans_a, trans_b, orientation=other)
    else:
        row["way"] = plan["strategy"]
    if torch is not None:
        ta, tb = torch.from_numpy(a), torch.from_numpy(b)
        ta, tb = (ta.t() if trans_a else ta), (tb.t() if trans_b else tb)
        fns["torch"] = lambda: torch.mm(ta, tb)
    # interleaved: a peer's threads spinning on after its call, or host noise, fall on every library alike
    row.update({key: flops / seconds / 1e9 for key, seconds in interleaved_best_seconds(fns, ROUNDS).items()})
    return row


def run(threads, quick=False):
    blas = numpy_blas(threads)
    torch = torch_or_none(threads)
    rng = np.random.default_rng(0)
    sizes = (256, 512, 1024) if quick else (256, 512, 1024, 2048)
    shapes = [(f"square {n}", n, n, n, False, False) for n in sizes] + MLP_SHAPES + CNN_SHAPES
    rows = [measure(*shape, torch=torch, rng=rng) for shape in shapes]
    for row in rows:
        row["numpy_blas"] = blas
    return rows
