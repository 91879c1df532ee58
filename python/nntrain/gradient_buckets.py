"""Gradient buckets: the ranks' gradients summed in a few messages that start while backward is still running.

The gradients are packed, in the order backward finishes them (the parameters' reverse order), into
contiguous buckets of about ``BUCKET_BYTES``. Each parameter's post-accumulate-grad hook tells when its
gradient is final; when a bucket's are all in, its non-blocking all-reduce (MPI Iallreduce) starts and the
rest of backward runs while it travels; at the end of the step the engine waits for all of them. Buckets
start in the same order on every rank (MPI requires every rank to issue the same collectives in the same
order), so a bucket waits for the ones before it, and a parameter a rank has no gradient for holds its
bucket back to the end of that rank's backward, where it goes in as zeros.

Between hosts the network moves the bytes while the cores compute; on one host the ranks' own cores copy
them through shared memory, so there the overlap saves little and what counts is not copying more than
needed: a large gradient is summed in its own array, and after the sum each .grad of a packed bucket is a
view into it.
"""

from contextlib import contextmanager

import numpy as np

# Gradient bytes per all-reduce: large enough to amortise one call's latency, small enough that the first
# bucket is ready early in backward.
BUCKET_BYTES = 1 << 20


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
