"""Data-parallel training over MPI: K processes train one model as one process would with the same global
batch.

Every rank loads the same data and draws the same batch order from the same seed; each takes its own slice
of every global batch, computes the gradient of its slice, and the gradients are summed over the ranks,
weighted by slice sizes so the result is the gradient of the mean loss over the whole global batch. The
optimiser then takes the same step on every rank. Parameters are broadcast from rank 0 at the start; only
rank 0 prints and writes files.

The sum overlaps backward (nntrain.gradient_buckets): the gradients travel in buckets of about 1 MiB, each
all-reduced by a non-blocking call that starts as soon as backward has finished every gradient in it.

BatchNorm uses each rank's own slice statistics (as PyTorch's DistributedDataParallel does without
SyncBatchNorm), so networks with BatchNorm match a single process only approximately; everything else
matches it to float rounding.
"""

import os
from contextlib import contextmanager

import numpy as np

from .gradient_buckets import BUCKET_BYTES, GradientBuckets, plan_buckets

# Set by the launchers we know (MPICH/Hydra, Open MPI, PMIx, Slurm's srun with PMI).
_LAUNCHER_VARIABLES = ("PMI_SIZE", "PMI_RANK", "OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS")


def launched_by_mpi():
    """True when this process was started by mpiexec/mpirun (so `nntrain train` trains data-parallel)."""
    return any(v in os.environ for v in _LAUNCHER_VARIABLES)


_active = None  # the Distributed of this process, once made


def active():
    """This process's Distributed, or None outside an MPI job."""
    return _active


class DistributedError(RuntimeError):
    """MPI is not usable here; the message says what to install."""


class Distributed:
    """This process's place in an MPI job (COMM_WORLD), and the collective operations training needs."""

    def __init__(self, bucket_bytes=BUCKET_BYTES):
        if not (isinstance(bucket_bytes, int) and bucket_bytes > 0):
            raise ValueError(f"bucket_bytes must be a positive int, got {bucket_bytes!r}")
        try:
            from mpi4py import MPI
        except ImportError:
            raise DistributedError("distributed training needs mpi4py and an MPI library: "
                                   "pip install 'nntrain[mpi]'") from None
        self.MPI = MPI
        self.comm = MPI.COMM_WORLD
        self.rank = self.comm.Get_rank()
        self.size = self.comm.Get_size()
        self.bucket_bytes = bucket_bytes
        self._buckets = None  # the GradientBuckets of the last parameter list averaged
        global _active
        _active = self

    def abort(self, status):
        """Ends every rank: one rank's error must not leave the others waiting in a collective forever."""
        if self.size > 1:
            self.comm.Abort(status)

    @property
    def is_root(self):
        return self.rank == 0

    def shard(self, n):
        """This rank's part [lo, hi) of a global batch of n examples; parts differ in size by at most one."""
        return n * self.rank // self.size, n * (self.rank + 1) // self.size

    def broadcast_arrays(self, arrays):
        """Every rank's arrays become rank 0's, in place."""
        for a in arrays:
            self.comm.Bcast(a, root=0)

    def broadcast_model(self, model):
        self.broadcast_arrays([p.data for p in model.parameters()] + [b for _, b in model.named_buffers()])

    @contextmanager
    def averaging_gradients(self, params, local_count, global_count):
        """``with dist.averaging_gradients(params, n, total): loss.backward()``: on leaving, every parameter's
        grad is the sum over ranks of grad * local_count / global_count: the gradient of the mean loss over
        the global batch when each rank's grad is the mean over its own slice. The sums start during the
        backward run inside the block, bucket by bucket as gradients become final.

        A parameter that got no gradient on a rank (unused by its forward, or no examples there) contributes
        zero; one that got none on any rank keeps grad None, as in one process. Parameters that do not
        require a gradient are left alone. Collective: every rank enters with the same parameters."""
        buckets = self._buckets
        if buckets is None or not buckets.fits(params):
            if buckets is not None:
                buckets.close()
            buckets = self._buckets = GradientBuckets(self, params, self.bucket_bytes)
        with buckets.step(local_count / global_count):
            yield

    def average_gradients(self, params, local_count, global_count):
        """The same sums after a backward that has already run (no overlap)."""
        with self.averaging_gradients(params, local_count, global_count):
            pass

    def sum(self, value):
        return self.comm.allreduce(value, op=self.MPI.SUM)

    def broadcast(self, value):
        """A picklable Python value from rank 0 to every rank (small control messages only)."""
        return self.comm.bcast(value, root=0)

    @contextmanager
    def _host(self):
        """The communicator of the ranks that share this host's memory (MPI's COMM_TYPE_SHARED split),
        whatever the launcher. Collective."""
        host = self.comm.Split_type(self.MPI.COMM_TYPE_SHARED)
        try:
            yield host
        finally:
            host.Free()

    def host_ranks(self):
        """How many ranks share this host's memory. Collective."""
        with self._host() as host:
            return host.Get_size()

    def threads_per_rank(self):
        """The default compute threads of each rank, or None to keep OMP_NUM_THREADS when the user set it:
        the cores this host's ranks may run on, shared evenly among them, so that ranks x threads never
        oversubscribes a host. Collective: every rank calls it.

        The ranks on this host are those sharing its memory (``_host``); the cores are the union of their
        CPU affinities (a container's or a scheduler's limit, not the machine's count), and a rank bound to
        fewer cores than its share takes only those."""
        with self._host() as host:
            mine = _usable_cores()
            cores = set().union(*host.allgather(mine))
            local = host.Get_size()
        if os.environ.get("OMP_NUM_THREADS"):
            return None
        return max(1, min(len(mine), len(cores) // local))


def _usable_cores():
    """The CPUs this process may run on (its affinity where the OS has one, else every CPU)."""
    if hasattr(os, "sched_getaffinity"):
        return set(os.sched_getaffinity(0))
    return set(range(os.cpu_count() or 1))


__all__ = ["BUCKET_BYTES", "Distributed", "DistributedError", "GradientBuckets", "launched_by_mpi", "np",
           "plan_buckets"]
