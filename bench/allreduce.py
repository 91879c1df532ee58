"""All-reduce latency and bandwidth: the seconds of one MPI Allreduce (sum, float32, in place, as
nntrain.distributed averages gradients) for messages of 8 B to 64 MiB between 2 ranks, and the α (latency,
s) and β (bandwidth, bytes/s) of the ring model fitted to them:

    T(p, n) = 2 (p - 1) α + 2 (p - 1) / p · n / β        (for p = 2:  T = 2 α + n / β)

`python -m bench --only allreduce` runs the 2 ranks on this host (shared memory: no network in it). On a
cluster, measure between two hosts, one rank on each, and give the result to the cost model:

    mpiexec -f hostfile -n 2 -ppn 1 python -m bench.allreduce        # prints one JSON line with alpha, beta
"""

import json
import os
import subprocess
import sys
import time

import numpy as np

from .scaling import mpiexec_or_none

MAX_BYTES = 64 << 20


def sizes(quick=False):
    """Message sizes in bytes: powers of two from 8 B to 64 MiB (every other one when quick)."""
    return sorted({8 << k for k in range(0, 24, 2 if quick else 1)} | {MAX_BYTES})


def time_allreduce(comm, MPI, nbytes, repeats=5):
    """Best over `repeats` of the mean seconds per Allreduce of nbytes, the slowest rank's time counting."""
    buf = np.ones(nbytes // 4, dtype=np.float32)
    iterations = max(3, min(1000, (256 << 20) // (nbytes * 16)))
    comm.Allreduce(MPI.IN_PLACE, buf, op=MPI.SUM)   # warm up the path (and its buffers) for this size
    best = float("inf")
    for _ in range(repeats):
        comm.Barrier()
        start = time.perf_counter()
        for _ in range(iterations):
            comm.Allreduce(MPI.IN_PLACE, buf, op=MPI.SUM)
        seconds = comm.allreduce((time.perf_counter() - start) / iterations, op=MPI.MAX)
        best = min(best, seconds)
    return best


def ring_seconds(ranks, nbytes, alpha, beta):
    """T(p, n) of a ring all-reduce of n bytes over p ranks (0 on one rank: nothing to reduce)."""
    return 0.0 if ranks == 1 else 2 * (ranks - 1) * alpha + 2 * (ranks - 1) / ranks * nbytes / beta


def fit(nbytes, seconds, ranks=2):
    """α, β of T(p, n) = 2(p-1)α + 2(p-1)/p · n/β fitted to measured (n, T) by least squares on relative
    error (so the 8 B and the 64 MiB messages weigh alike)."""
    n, t = np.asarray(nbytes, float), np.asarray(seconds, float)
    design = np.stack([np.full_like(n, 2.0 * (ranks - 1)), 2.0 * (ranks - 1) / ranks * n], axis=1) / t[:, None]
    (alpha, inverse_beta), *_ = np.linalg.lstsq(design, np.ones_like(t), rcond=None)
    return float(alpha), float(1.0 / inverse_beta)


def worker(quick=False):
    """Run under mpiexec: every rank measures, rank 0 prints one JSON line."""
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    rows = [{"bytes": n, "seconds": time_allreduce(comm, MPI, n, 3 if quick else 5)} for n in sizes(quick)]
    alpha, beta = fit([r["bytes"] for r in rows], [r["seconds"] for r in rows], comm.Get_size())
    if comm.Get_rank() == 0:
        print(json.dumps({"ranks": comm.Get_size(), "rows": rows, "alpha": alpha, "beta": beta}))


def measure(quick=False, ranks=2):
    """Launches `ranks` ranks of this file on this host; their JSON, or None without mpiexec/mpi4py."""
    mpiexec = mpiexec_or_none()
    if mpiexec is None:
        return None
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    command = [mpiexec, "-n", str(ranks), sys.executable, "-m", "bench.allreduce"] + (["--quick"] if quick else [])
    out = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    worker(quick="--quick" in sys.argv[1:])
