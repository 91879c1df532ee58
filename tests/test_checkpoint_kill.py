"""Killing a training process at any moment (SIGKILL: no handler runs) leaves a run directory whose
checkpoint and weights are complete and loadable, and from which training resumes."""

import os
import signal
import subprocess
import sys
import time

import numpy as np

from nntrain.checkpoint import load_checkpoint, load_weights

from cli_helpers import run_process

# Kills spread over half a second after the first checkpoint: the digits mlp writes one every ~0.05 s,
# so each kill lands in a random phase of several checkpoint cycles.
ATTEMPTS = 5


def test_sigkill_at_many_moments_never_leaves_a_broken_file(tmp_path):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    rng = np.random.default_rng(0)
    survivors = 0
    for attempt in range(ATTEMPTS):
        run = tmp_path / f"run{attempt}"
        proc = subprocess.Popen([sys.executable, "-m", "nntrain", "train", "--epochs", "500", "--batch-size", "32",
                                 "--out", str(run), "--quiet"], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        # Wait for the first checkpoint, then kill at a random moment within the next few epochs, so the
        # kills land in every phase: mid-step, writing metrics, writing the checkpoint, renaming it.
        deadline = time.time() + 120
        while not (run / "checkpoint.safetensors").exists():
            assert proc.poll() is None and time.time() < deadline
            time.sleep(0.005)
        time.sleep(rng.uniform(0, 0.5))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        state = load_checkpoint(run / "checkpoint.safetensors")
        assert state.meta["trainer"]["epoch"] >= 1
        weights = load_weights(run / "model.safetensors")
        assert weights["1.weight"].shape == (256, 64) and np.isfinite(weights["1.weight"]).all()
        survivors += 1
    assert survivors == ATTEMPTS
    # The last killed run resumes from what is on disk.
    resumed = run_process("train", "--resume", run, "--epochs", state.meta["trainer"]["epoch"] + 1, "--quiet")
    assert resumed.returncode == 0, resumed.stderr
