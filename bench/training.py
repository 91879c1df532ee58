"""End-to-end training throughput: samples/s of forward + loss + backward + Adam step at batch 64 for the
mlp and cnn presets on Fashion-MNIST-shaped data, against the same networks in PyTorch and in JAX (a
`jax.jit` step with optax Adam, bench/jax_models.py); and the peak memory of a whole Fashion-MNIST mlp
epoch in each, measured in separate processes. Each row also gives the ceiling a step's FLOPs and the
microkernel's peak set on samples/s (bench/flops.py) and every library's share of it. nntrain, PyTorch and
JAX (in a process of its own, compiled once, timing a pass when asked) run in rounds of one short pass each:
the samples/s columns are each library's median pass, and each ratio is the median over the rounds of the
two passes' ratio within a round, so that a slow spell of the host, which lasts seconds here, falls on both
sides of a ratio instead of on one library's passes. Within a round nntrain's pass sits between the peers',
next to each (round_order)."""

import contextlib
import os
import statistics
import subprocess
import sys
import time

import numpy as np

import nntrain
from nntrain import nn, optim, presets
from nntrain.train import Trainer

from .flops import ceiling_samples_per_second, peak_gflops, training_flops
from .peers import JaxPeer, jax_or_none, torch_or_none, torch_preset

INPUT, CLASSES, BATCH = (1, 28, 28), 10, 64
# (preset, steps per pass, rounds of one pass per library), and the same when --quick; even round counts,
# so that each peer runs as often before nntrain's pass as after it (round_order)
PASSES = (("mlp", 100, 8), ("cnn", 10, 6))
QUICK_PASSES = (("mlp", 100, 4), ("cnn", 10, 2))


def _batches(steps, seed=0):
    rng = np.random.default_rng(seed)
    return [(rng.random((BATCH,) + INPUT, dtype=np.float32), rng.integers(0, CLASSES, BATCH)) for _ in range(steps)]


def _rate(step, batches, warmup):
    for x, y in batches[:warmup]:
        step(x, y)
    start = time.perf_counter()
    for x, y in batches[warmup:]:
        step(x, y)
    return (len(batches) - warmup) * BATCH / (time.perf_counter() - start)


def nntrain_rate(preset, steps, warmup):
    model = presets.build(preset, INPUT, CLASSES, rng=np.random.default_rng(0))
    trainer = Trainer(model, optim.Adam(model.parameters(), lr=1e-3), nn.CrossEntropyLoss())
    return _rate(lambda x, y: trainer.train_step(x, y), _batches(steps + warmup), warmup)


def torch_rate(torch, preset, steps, warmup):
    torch.manual_seed(0)
    model = torch_preset(preset, INPUT, CLASSES)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step(x, y):
        opt.zero_grad()
        loss = loss_fn(model(torch.from_numpy(x)), torch.from_numpy(y))
        loss.backward()
        opt.step()

    return _rate(step, _batches(steps + warmup), warmup)


def round_order(round_index):
    """The libraries' passes in a round: nntrain's in the middle, next to each peer's, and the peers taking
    turns before and after it, so that a host drifting faster or slower within a round favours neither side
    of a ratio over two rounds."""
    return ("torch", "nntrain", "jax") if round_index % 2 == 0 else ("jax", "nntrain", "torch")


def paired_ratios(passes):
    """{"vs_torch": ..., "vs_jax": ...}: for each peer that ran, the median over the rounds of nntrain's pass
    over the peer's pass in the same round."""
    return {f"vs_{peer}": statistics.median(ours / theirs for ours, theirs in zip(passes["nntrain"], passes[peer]))
            for peer in ("torch", "jax") if passes.get(peer)}


def with_ceiling(row, flops_per_sample, peak):
    """Adds the ceiling (samples/s at the microkernel's peak `peak` GFLOP/s) and each library's share of it."""
    ceiling = ceiling_samples_per_second(flops_per_sample, peak)
    row.update(flops_per_sample=flops_per_sample, peak_gflops=peak, ceiling=ceiling,
               share_of_ceiling={lib: row[lib] / ceiling for lib in ("nntrain", "torch", "jax") if lib in row})
    return row


def run(threads_list=(1, 2), quick=False):
    rows = []
    has_jax = jax_or_none() is not None
    peak_one_thread = peak_gflops(1)
    for preset, steps, rounds in QUICK_PASSES if quick else PASSES:
        flops = training_flops(presets.build(preset, INPUT, CLASSES, rng=np.random.default_rng(0)), INPUT)
        for threads in threads_list:
            nntrain.set_num_threads(threads)
            torch = torch_or_none(threads)
            passes = {"nntrain": [], "torch": [], "jax": []}
            with contextlib.ExitStack() as stack:
                jax = stack.enter_context(JaxPeer(preset, threads, steps, 5, INPUT, CLASSES)) if has_jax else None
                runs = {"nntrain": lambda: nntrain_rate(preset, steps, 5),
                        "torch": (lambda: torch_rate(torch, preset, steps, 5)) if torch is not None else None,
                        "jax": jax.rate if jax is not None else None}
                for r in range(rounds):
                    for library in round_order(r):
                        if runs[library] is not None:
                            passes[library].append(runs[library]())
            row = {"model": preset, "threads": threads}
            row.update({lib: statistics.median(rates) for lib, rates in passes.items() if rates})
            row.update(paired_ratios(passes))
            rows.append(with_ceiling(row, flops, peak_one_thread * threads))
    return rows


# ---- peak memory of one epoch, each library in a process of its own -----------------------------------
def _epoch_data():
    """Fashion-MNIST's training set if installed, else random data of its shape and size."""
    try:
        from nntrain.data import find_dataset, normalise

        splits, _ = normalise(find_dataset("fashion-mnist"))
        return splits.train.x, splits.train.y, "fashion-mnist"
    except ValueError:
        rng = np.random.default_rng(0)
        return rng.random((60000,) + INPUT, dtype=np.float32), rng.integers(0, CLASSES, 60000), "random"


def _epoch(library):
    """Trains the mlp for one epoch of batches of 64 with `library`; called in a child process."""
    x, y, _ = _epoch_data()
    order = np.random.default_rng(0).permutation(len(x))
    if library == "nntrain":
        model = presets.build("mlp", INPUT, CLASSES, rng=np.random.default_rng(0))
        trainer = Trainer(model, optim.Adam(model.parameters(), lr=1e-3))
        for i in range(0, len(x) - BATCH + 1, BATCH):
            index = order[i:i + BATCH]
            trainer.train_step(x[index], y[index])
    else:
        import torch

        model = torch_preset("mlp", INPUT, CLASSES)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        loss_fn = torch.nn.CrossEntropyLoss()
        for i in range(0, len(x) - BATCH + 1, BATCH):
            index = order[i:i + BATCH]
            opt.zero_grad()
            loss_fn(model(torch.from_numpy(x[index])), torch.from_numpy(y[index])).backward()
            opt.step()


def peak_memory_mib(library):
    """Peak resident memory (MiB) of a child process training one mlp epoch with `library`."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    proc = subprocess.Popen([sys.executable, "-c", f"from bench.training import _epoch; _epoch({library!r})"],
                            env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"the {library} memory run failed with status {proc.returncode}")
    return usage.ru_maxrss / 1024


def memory_rows():
    rows = [{"library": "nntrain", "peak_rss_mib": peak_memory_mib("nntrain")}]
    if torch_or_none() is not None:
        rows.append({"library": "torch", "peak_rss_mib": peak_memory_mib("torch")})
    return rows
