"""Data-parallel training over MPI: K processes train one model as one process would with the same global
batch.

Every rank loads the same data and draws the same batch order from the same seed; each takes its own slice
of every global batch, computes the gradient of its slice, and the gradients are summed over the ranks,
weighted by slice sizes so the result is the gradient of the mean loss over the whole global batch. The
optimiser then takes the same step on every rank. Parameters are broadcast from rank 0 at the start; only
rank 0 prints and writes files.

The sum overlaps backward (``GradientBuckets``): the gradients are packed, in the order backward produces
them (the parameters' reverse order), into contiguous buckets of about ``BUCKET_BYTES``; a bucket's
non-blocking all-reduce starts as soon as backward has finished every gradient in it, and the rest of
backward runs while it travels. Buckets start in the same order on every rank (MPI requires it), so a
bucket waits for the ones before it.

BatchNorm uses each rank's own slice statistics (as PyTorch's DistributedDataParallel does without
SyncBatchNorm), so networks with BatchNorm match a single process only approximately; everything else
matches it to float rounding.
"""

import os
from contextlib import contextmanager

import numpy as np

# Gradient bytes per all-reduce: large enough to amortise one call's latency, small enough that the first
# bucket is ready early in backward.
BUCKET_BYTES = 1 << 20

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

    def threads_per_rank(self):
        """The default compute threads of each rank, or None to keep OMP_NUM_THREADS when the user set it:
        the cores this host's ranks may run on, shared evenly among them, so that ranks x threads never
        oversubscribes a host. Collective: every rank calls it.

        The ranks on this host are those sharing its memory (MPI's COMM_TYPE_SHARED split), whatever the
        launcher; the cores are the union of their CPU affinities (a container's or a scheduler's limit,
        not the machine's count), and a rank bound to fewer cores than its share takes only those."""
        host = self.comm.Split_type(self.MPI.COMM_TYPE_SHARED)
        try:
            mine = _usable_cores()
            cores = set().union(*host.allgather(mine))
            local = host.Get_size()
        finally:
            host.Free()
        if os.environ.get("OMP_NUM_THREADS"):
            return None
        return max(1, min(len(mine), len(cores) // local))


class GradientBuckets:
    """Gradients packed into contiguous buffers, each all-reduced by one non-blocking call.

    A bucket of several parameters copies their scaled gradients end to end into its buffer, and after the
    sum each ``.grad`` is a view into that buffer (overwritten by the next step's sum, as PyTorch's
    ``gradient_as_bucket_view``); a gradient alone in its bucket is scaled and summed in its own array, with
    no copy. One more small sum, started with the last bucket, counts the ranks that had a gradient
    for each parameter: where none had, grad becomes None again.

    The post-accumulate-grad hooks are registered once and do nothing outside ``step``; ``close`` removes
    them."""

    def __init__(self, dist, params, bucket_bytes):
        self.dist = dist
        self.key = _layout_key(params)
        self.buckets = [_Bucket(members) for members in plan_buckets(params, bucket_bytes)]
        self.had_grad = np.zeros(sum(len(b.params) for b in self.buckets), dtype=np.int32)
        self._weight = None  # local / global examples while a step is under way, else None
        self._started = 0    # buckets 0.._started-1 have their all-reduce under way this step
        self._requests = []
        first = 0
        self._handles = []
        for b in self.buckets:
            b.first = first
            first += len(b.params)
            self._handles += [p.register_post_accumulate_grad_hook(self._final_hook(b, i))
                              for i, p in enumerate(b.params)]

    def fits(self, params):
        return self.key == _layout_key(params)

    def close(self):
        for h in self._handles:
            h.remove()
        self._handles = []

    @contextmanager
    def step(self, weight):
        self._started = 0
        self._requests = []
        for b in self.buckets:
            b.reset()
        self._weight = weight
        try:
            yield
        finally:
            self._weight = None
        # Gradients no hook saw (none on this rank, or computed before the block) go in now; then every
        # bucket left starts, in order.
        for b in self.buckets[self._started:]:
            for i in range(len(b.params)):
                if not b.copied[i]:
                    self._copy_in(b, i, weight)
            b.waiting = 0
        self._start_ready()
        self.dist.MPI.Request.Waitall(self._requests)
        self._requests = []
        for b in self.buckets:
            b.copy_out(self.had_grad[b.first:b.first + len(b.params)])

    def _copy_in(self, bucket, i, weight):
        self.had_grad[bucket.first + i] = bucket.copy_in(i, weight)

    def _final_hook(self, bucket, i):
        def hook(p):
            if self._weight is None:  # a backward outside a step
                return
            if bucket.started:
                raise RuntimeError("a gradient changed after its all-reduce started: run one backward inside "
                                   "averaging_gradients")
            if not bucket.copied[i]:
                bucket.waiting -= 1
            self._copy_in(bucket, i, self._weight)
            if not bucket.waiting:
                self._start_ready()
            elif self._requests:  # MPI progresses a non-blocking call only inside MPI calls
                self.dist.MPI.Request.Testall(self._requests)
        return hook

    def _start_ready(self):
        MPI, comm = self.dist.MPI, self.dist.comm
        while self._started < len(self.buckets) and not self.buckets[self._started].waiting:
            b = self.buckets[self._started]
            self._requests.append(comm.Iallreduce(MPI.IN_PLACE, b.message, op=MPI.SUM))
            b.started = True
            self._started += 1
            if self._started == len(self.buckets):  # every parameter's had-a-gradient is known now
                self._requests.append(comm.Iallreduce(MPI.IN_PLACE, self.had_grad, op=MPI.SUM))


def plan_buckets(params, bucket_bytes=BUCKET_BYTES):
    """The parameters that require a gradient, in reverse order (the order backward finishes them), cut into
    buckets: a bucket closes when the next gradient would take it over ``bucket_bytes`` or has another
    dtype. A gradient of half a bucket or more has a bucket to itself (it travels in its own array: packing
    it would save at most one call's latency and cost a copy of it). A parameter listed twice goes in once."""
    unique = list({id(p): p for p in params if p.requires_grad}.values())
    buckets, members, size = [], [], 0
    for p in reversed(unique):
        alone = 2 * p.data.nbytes >= bucket_bytes
        if members and (alone or size + p.data.nbytes > bucket_bytes or p.data.dtype != members[0].data.dtype):
            buckets.append(members)
            members, size = [], 0
        members.append(p)
        size += p.data.nbytes
        if alone:
            buckets.append(members)
            members, size = [], 0
    if members:
        buckets.append(members)
    return buckets


class _Bucket:
    """Some parameters' gradients travelling in one message: end to end in one buffer, or a single gradient
    in its own array (``message``)."""

    def __init__(self, params):
        self.params = params
        self.first = 0  # the index of its first parameter among all buckets'
        if len(params) > 1:
            self.offsets = np.cumsum([0] + [p.data.size for p in params])
            self.buffer = np.empty(int(self.offsets[-1]), dtype=params[0].data.dtype)
            self.message = self.buffer
        else:
            self.buffer = None
        self.reset()

    def reset(self):
        self.copied = [False] * len(self.params)
        self.waiting = len(self.params)  # parameters whose gradient is not in the message yet this step
        self.started = False

    def copy_in(self, i, weight):
        """Puts parameter i's gradient times weight into the message; returns 1 if it had one, else 0."""
        self.copied[i] = True
        p = self.params[i]
        if self.buffer is None:
            g = p.grad
            had = g is not None
            if g is None:
                g = p.grad = np.zeros_like(p.data)
            elif not (g.flags.c_contiguous and g.flags.writeable and g.shape == p.data.shape):
                g = p.grad = np.array(g, dtype=p.data.dtype, order="C")
            if weight != 1.0:
                g *= g.dtype.type(weight)
            self.message = g
            return int(had)
        view = self.buffer[self.offsets[i]:self.offsets[i + 1]].reshape(p.data.shape)
        if p.grad is None:
            view.fill(0)
            return 0
        np.multiply(p.grad, view.dtype.type(weight), out=view)
        return 1

    def copy_out(self, had_grad):
        """Each parameter's summed gradient back in .grad, or None where no rank had one."""
        for i, p in enumerate(self.params):
            if not had_grad[i]:
                p.grad = None
            elif self.buffer is not None:
                p.grad = self.buffer[self.offsets[i]:self.offsets[i + 1]].reshape(p.data.shape)


def _layout_key(params):
    return tuple((id(p), p.requires_grad, p.data.dtype.str, p.data.shape) for p in params)


def _usable_cores():
    """The CPUs this process may run on (its affinity where the OS has one, else every CPU)."""
    if hasattr(os, "sched_getaffinity"):
        return set(os.sched_getaffinity(0))
    return set(range(os.cpu_count() or 1))


__all__ = ["BUCKET_BYTES", "Distributed", "DistributedError", "GradientBuckets", "launched_by_mpi", "np",
           "plan_buckets"]
