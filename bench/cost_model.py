"""Expected data-parallel speed-up on p ranks (one per host) from measured costs, for the mlp and cnn presets.

One training step on p ranks with global batch B:

    step(p, B) = c + (B / p) · t + Σ_buckets [ 2 (p - 1) α + 2 (p - 1) / p · n_i / β ]   (the sum: 0 if p = 1)

    c      the per-step cost that does not shrink with the batch (optimiser, Python), and
    t      the seconds per sample, both fitted to one rank's step times at batch 16 and 64 (all its threads);
    n_i    the bytes of each gradient bucket: nntrain.distributed packs the gradients into buckets of about
           1 MiB and reduces each with one Allreduce (the model ignores that they overlap backward, so it
           is pessimistic there);
    α, β   the all-reduce latency (s) and bandwidth (bytes/s) of a ring (bench/allreduce.py).

It assumes each rank has a host of its own as fast as this one, and that t holds at any local batch B/p:
small local batches run the kernels less well, so speed-ups where B/p < 16 are optimistic.

speed-up(p, B) = step(1, B) / step(p, B). Going from p/2 to p ranks pays only when the compute it saves,
B·t/p, exceeds the extra all-reduce time A(p) − A(p/2): above the global batch B* = p · (A(p) − A(p/2)) / t.

    python -m bench.cost_model --alpha 2e-5 --beta 1.2e9      # α, β measured on your cluster
"""

import argparse
import time

import numpy as np

from .allreduce import measure, ring_seconds

RANKS = (2, 4, 8, 16, 32, 64)
GLOBAL_BATCHES = (64, 256, 1024)
PRESETS = ("mlp", "cnn")
INPUT, CLASSES = (1, 28, 28), 10


def _step_seconds(trainer, batches, steps, rng):
    """Fastest seconds of a training step at each batch size, the sizes interleaved so that a shared
    machine's load falls on all of them alike."""
    data = {b: (rng.random((b,) + INPUT, dtype=np.float32), rng.integers(0, CLASSES, b)) for b in batches}
    best = {b: float("inf") for b in batches}
    for i in range(steps + 2):
        for b in batches:
            start = time.perf_counter()
            trainer.train_step(*data[b])
            if i >= 2:   # two warm-up rounds
                best[b] = min(best[b], time.perf_counter() - start)
    return [best[b] for b in batches]


def step_line(small, large):
    """(c, t): the line c + b·t through the step times at batch 16 and 64. When noise makes that line
    unphysical (c < 0, or c beyond the batch-64 step), c = 0 and t = step(64) / 64."""
    fixed = (64 * small - 16 * large) / 48
    if not 0 <= fixed < large:
        fixed = 0.0
    return fixed, (large - fixed) / 64


def step_costs(preset, quick=False):
    """(c, t, bytes of each gradient bucket) of one rank: c the fixed seconds per step, t seconds per sample."""
    from nntrain import nn, optim, presets
    from nntrain.gradient_buckets import plan_buckets
    from nntrain.train import Trainer

    model = presets.build(preset, INPUT, CLASSES, rng=np.random.default_rng(0))
    trainer = Trainer(model, optim.Adam(model.parameters(), lr=1e-3), nn.CrossEntropyLoss())
    steps = (20 if quick else 60) if preset == "mlp" else (4 if quick else 12)
    small, large = _step_seconds(trainer, (16, 64), steps, np.random.default_rng(0))
    buckets = plan_buckets(model.parameters())
    # one message per bucket, and one of a count per parameter (how many ranks had its gradient)
    messages = [sum(p.data.nbytes for p in b) for b in buckets] + [4 * sum(len(b) for b in buckets)]
    return step_line(small, large) + (messages,)


def allreduce_seconds(ranks, tensor_bytes, alpha, beta):
    return sum(ring_seconds(ranks, n, alpha, beta) for n in tensor_bytes)


def step_seconds(ranks, batch, fixed, per_sample, tensor_bytes, alpha, beta):
    return fixed + batch / ranks * per_sample + allreduce_seconds(ranks, tensor_bytes, alpha, beta)


def break_even_batch(ranks, per_sample, tensor_bytes, alpha, beta):
    """The global batch above which p ranks are faster than p/2 ranks."""
    extra = (allreduce_seconds(ranks, tensor_bytes, alpha, beta)
             - allreduce_seconds(ranks // 2, tensor_bytes, alpha, beta))
    return ranks * extra / per_sample


def predict(preset, fixed, per_sample, tensor_bytes, alpha, beta):
    """One row per rank count: the speed-up at each global batch (None where a rank would get no sample)."""
    rows = []
    for ranks in RANKS:
        speedup = {b: (step_seconds(1, b, fixed, per_sample, tensor_bytes, alpha, beta)
                       / step_seconds(ranks, b, fixed, per_sample, tensor_bytes, alpha, beta)) if b >= ranks else None
                   for b in GLOBAL_BATCHES}
        rows.append({"model": preset, "ranks": ranks, "speedup": speedup,
                     "allreduce_ms": 1e3 * allreduce_seconds(ranks, tensor_bytes, alpha, beta),
                     "pays_above_batch": break_even_batch(ranks, per_sample, tensor_bytes, alpha, beta)})
    return rows


def model_rows(alpha, beta, quick=False):
    """Measures each preset's step costs here and predicts its speed-up with α, β."""
    out = []
    for preset in PRESETS:
        fixed, per_sample, tensor_bytes = step_costs(preset, quick)
        costs = {"model": preset, "fixed_ms": 1e3 * fixed, "per_sample_us": 1e6 * per_sample,
                 "gradient_bytes": sum(tensor_bytes), "tensors": len(tensor_bytes)}
        out.append({"costs": costs, "predictions": predict(preset, fixed, per_sample, tensor_bytes, alpha, beta)})
    return out


def run(quick=False):
    """The `allreduce` family: α, β measured between 2 ranks on this host, and the predictions they give."""
    measured = measure(quick)
    if measured is None:
        return {"alpha": None, "beta": None, "messages": [], "models": []}
    return {"ranks": measured["ranks"], "messages": measured["rows"], "alpha": measured["alpha"],
            "beta": measured["beta"], "models": model_rows(measured["alpha"], measured["beta"], quick)}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.cost_model", description=__doc__.splitlines()[0])
    parser.add_argument("--alpha", type=float, required=True, help="all-reduce latency, seconds")
    parser.add_argument("--beta", type=float, required=True, help="all-reduce bandwidth, bytes per second")
    parser.add_argument("--threads", type=int, default=None, help="threads per rank (default: all)")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    if args.alpha < 0 or args.beta <= 0:
        parser.error("--alpha must be >= 0 and --beta > 0")
    import nntrain

    from .__main__ import show_cost_model

    threads = args.threads or nntrain.get_num_threads()
    nntrain.set_num_threads(threads)
    show_cost_model({"alpha": args.alpha, "beta": args.beta, "models": model_rows(args.alpha, args.beta, args.quick)},
                    threads)


if __name__ == "__main__":
    main()
