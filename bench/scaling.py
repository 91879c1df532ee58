"""Data-parallel scaling on this machine: training samples/s of the mlp and cnn presets (batch 64 global,
Adam) with 1 and 2 MPI ranks x threads, each configuration in its own `mpiexec` job. Needs nntrain[mpi]."""

import json
import os
import shutil
import subprocess
import sys
import time

CONFIGS = ((1, 1), (1, 2), (2, 1))   # (ranks, threads per rank)
STEPS = {"mlp": (150, 300), "cnn": (15, 40)}   # timed steps, (quick, full)


def worker(preset, threads, steps=300, warmup=10):
    import numpy as np

    import nntrain
    from nntrain import nn, optim, presets
    from nntrain.distributed import Distributed, launched_by_mpi
    from nntrain.train import Trainer

    nntrain.set_num_threads(threads)
    dist = Distributed() if launched_by_mpi() else None
    model = presets.build(preset, (1, 28, 28), 10, rng=np.random.default_rng(0))
    trainer = Trainer(model, optim.Adam(model.parameters(), lr=1e-3), nn.CrossEntropyLoss(), distributed=dist)
    if dist is not None:
        dist.broadcast_model(model)
    rng = np.random.default_rng(0)
    batches = [(rng.random((64, 1, 28, 28), dtype=np.float32), rng.integers(0, 10, 64)) for _ in range(steps + warmup)]
    for x, y in batches[:warmup]:
        trainer.train_step(x, y)
    start = time.perf_counter()
    for x, y in batches[warmup:]:
        trainer.train_step(x, y)
    rate = steps * 64 / (time.perf_counter() - start)
    if dist is None or dist.is_root:
        print(json.dumps({"samples_per_second": rate}))


def mpiexec_or_none():
    """The path of mpiexec when it and mpi4py are both installed (nntrain[mpi]), else None."""
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return None
    return shutil.which("mpiexec")


def first_message(stderr):
    """The first line of an mpiexec failure that says something (Open MPI frames its messages in dashes)."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip().strip("-")]
    return lines[0] if lines else "no message"


def run(quick=False):
    mpiexec = mpiexec_or_none()
    if mpiexec is None:
        return [{"model": m, "ranks": r, "threads": t, "samples_per_second": None} for m in STEPS for r, t in CONFIGS]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    rows = []
    for preset, (quick_steps, full_steps) in STEPS.items():
        for ranks, threads in CONFIGS:
            out = subprocess.run([mpiexec, "-n", str(ranks), sys.executable, "-m", "bench.scaling", preset,
                                  str(threads), str(quick_steps if quick else full_steps)],
                                 capture_output=True, text=True, env=env)
            rate = None
            if out.returncode == 0:
                rate = json.loads(out.stdout.strip().splitlines()[-1])["samples_per_second"]
            else:
                print(f"scaling: {mpiexec} -n {ranks} failed: {first_message(out.stderr)}", file=sys.stderr)
            rows.append({"model": preset, "ranks": ranks, "threads": threads, "samples_per_second": rate})
    return rows


if __name__ == "__main__":
    worker(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
