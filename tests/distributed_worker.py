"""Run by tests/test_distributed.py, alone or under mpiexec: a few Trainer steps of one model on fixed random
global batches, then rank 0 saves the weights to OUT.npz and prints the number of gradient buckets.

    python tests/distributed_worker.py MODEL BUCKET_BYTES OUT      (BUCKET_BYTES 0: the library's default)
    python tests/distributed_worker.py overlap                    (one process: when the all-reduces start)
    python tests/distributed_worker.py after                      (one process: averaging after backward)

Global batches of 45, 45, 33 and 1 examples: over 2 ranks, slices of 22/23, 16/17 and 0/1 (a rank without
examples has no gradient at all for that step)."""

import json
import os
import sys

import numpy as np

from nntrain import Tensor, nn, optim, presets
from backward_probe import probe
from nntrain.distributed import BUCKET_BYTES, Distributed, launched_by_mpi
from nntrain.train import Trainer

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")
BATCHES = (45, 45, 33, 1)


class FrozenAndSpare(nn.Module):
    """The mlp with its first bias frozen and a layer its forward never calls: no rank has a gradient for it,
    so it keeps grad None (and weight decay leaves it alone) as in one process."""

    def __init__(self, rng):
        super().__init__()
        self.net = presets.build("mlp", (1, 8, 8), 10, rng=rng)
        self.net[1].bias.requires_grad_(False)
        self.spare = nn.Linear(4, 4, rng=rng)

    def forward(self, x):
        return self.net(x)


def build(name, rng):
    if name == "mlp":   # in float64: the buckets of the other dtype, and a tighter match
        return presets.build("mlp", (1, 8, 8), 10, rng=rng).to(np.float64)
    if name == "cnn":   # BatchNorm in eval mode (running statistics): per-rank batch statistics differ by design
        return presets.build("cnn", (1, 12, 12), 10, rng=rng).eval()
    if name == "two_branch":  # define-by-run, one layer used by both branches
        sys.path.insert(0, EXAMPLES)
        from two_branch import TwoBranch

        return TwoBranch(rng=rng)
    if name == "frozen":
        return FrozenAndSpare(rng)
    raise SystemExit(f"unknown model {name}")


def main(name, bucket_bytes, out):
    dist = Distributed(bucket_bytes or BUCKET_BYTES) if launched_by_mpi() else None
    model = build(name, np.random.default_rng(0))
    shape = (1, 12, 12) if name == "cnn" else (1, 8, 8)
    # SGD: the update is linear in the gradient, so rounding differences stay rounding-sized (Adam divides tiny
    # gradients by their own size and would magnify them)
    sgd = optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-2)
    trainer = Trainer(model, sgd, nn.CrossEntropyLoss(), distributed=dist)
    if dist is not None:
        dist.broadcast_model(model)
    rng = np.random.default_rng(1)
    for n in BATCHES:
        x = rng.standard_normal((n, *shape)).astype(model.parameters()[0].dtype)
        trainer.train_step(x, rng.integers(0, 10, n))
    if dist is None or dist.is_root:
        np.savez(out, **{k: p.data for k, p in model.named_parameters()})
        print(json.dumps({"buckets": len(dist._buckets.buckets) if dist else 0}))


def overlap_events():
    """What happens during one averaged backward of Linear-Probe-ReLU-Linear with a bucket per parameter:
    'start' for each all-reduce started, 'probe' when backward passes between the two Linear layers."""
    events = []

    Probe = probe(events)

    class ProbeLayer(nn.Module):
        def forward(self, x):
            return Probe.apply(x)

    class RecordingComm:
        def __init__(self, comm):
            self.comm = comm

        def Iallreduce(self, *args, **kwargs):
            events.append("start")
            return self.comm.Iallreduce(*args, **kwargs)

    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Linear(8, 16, rng=rng), ProbeLayer(), nn.ReLU(), nn.Linear(16, 4, rng=rng))
    dist = Distributed(bucket_bytes=64)
    dist.comm = RecordingComm(dist.comm)
    with dist.averaging_gradients(model.parameters(), 5, 5):
        model(Tensor(rng.standard_normal((5, 8)).astype(np.float32))).sum().backward()
        events.append("backward returned")
    return events


def averaged_after_backward():
    """average_gradients after a backward that already ran, in one process with a quarter of a global batch:
    the gradients are scaled by 1/4; an unused layer keeps grad None."""
    rng = np.random.default_rng(0)
    used, unused = nn.Linear(3, 2, rng=rng), nn.Linear(2, 2, rng=rng)
    used(Tensor(rng.standard_normal((4, 3)).astype(np.float32))).sum().backward()
    before = used.weight.grad.copy()
    Distributed(bucket_bytes=16).average_gradients(used.parameters() + unused.parameters(), 1, 4)
    return {"scaled": bool(np.array_equal(used.weight.grad, before * 0.25)), "unused": unused.weight.grad is None}


if __name__ == "__main__":
    if sys.argv[1] == "overlap":
        print(json.dumps(overlap_events()))
    elif sys.argv[1] == "after":
        print(json.dumps(averaged_after_backward()))
    else:
        main(sys.argv[1], int(sys.argv[2]), sys.argv[3])
