"""Memory stays flat over a long run: once the heap has settled, resident memory does not grow with more
epochs (no leak per step, per epoch or per checkpoint).

Freed memory is kept for reuse (memory.h), so the heap takes some epochs to reach the layout it then keeps:
on this test's run it steps up by about 1.4 MiB twice in the first ~25 epochs and is flat for the next
hundred. The test therefore compares the second half of an 80-epoch run with the first half."""

import os
import subprocess
import sys

SOAK = r"""
import sys
import numpy as np
from nntrain import data, optim, presets
from nntrain.train import Callback, Trainer

def rss_kib():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4

class Record(Callback):
    def __init__(self):
        self.rss = []
    def on_epoch_end(self, trainer, metrics):
        self.rss.append(rss_kib())

splits, _ = data.normalise(data.load_digits())
model = presets.build("cnn", splits.train.input_shape, 10, rng=np.random.default_rng(0))
record = Record()
trainer = Trainer(model, optim.Adam(model.parameters(), lr=1e-3), callbacks=[record])
trainer.fit(data.DataLoader(splits.train, batch_size=32, shuffle=True, seed=0), splits.test, epochs=80)
print(" ".join(map(str, record.rss)))
"""


def test_resident_memory_is_flat_after_warm_up():
    if not os.path.exists("/proc/self/statm"):
        import pytest

        pytest.skip("needs /proc (Linux) to read resident memory")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    out = subprocess.run([sys.executable, "-c", SOAK], capture_output=True, text=True, env=env, timeout=600, check=True)
    rss = [int(v) for v in out.stdout.split()]
    assert len(rss) == 80
    settled = max(rss[:40])
    # 40 more epochs of ~45 steps: a leak of even 1 KiB per step would add almost two megabytes.
    assert max(rss[40:]) - settled < 1024, f"resident memory grew from {settled} KiB to {max(rss[40:])} KiB"
