"""The FLOP count behind the training table's ceiling (bench/flops.py), against counts by hand, and the
share-of-ceiling columns in `python -m bench --only training --quick --json`."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from nntrain import nn, presets

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the repository root, home of bench/
from bench import flops, training  # noqa: E402


def test_a_linear_net_counts_two_flops_per_multiply_add_and_no_input_gradient_for_the_first_layer(rng):
    model = nn.Sequential(nn.Flatten(), nn.Linear(6, 5, rng=rng), nn.ReLU(), nn.Linear(5, 3, rng=rng))
    b = 4
    first, second = 2 * b * 6 * 5, 2 * b * 5 * 3
    # first layer: forward + weight gradient; second: forward + weight gradient + input gradient
    assert flops.training_flops(model, (2, 3), batch_size=b) == 2 * first + 3 * second


def test_a_conv_net_counts_output_positions_times_the_kernel_over_groups(rng):
    model = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1, rng=rng), nn.ReLU(),
                          nn.Conv2d(4, 6, 3, stride=2, groups=2, bias=False, rng=rng), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(6, 3, rng=rng))
    b = 3
    conv1 = 2 * b * 4 * 5 * 5 * 2 * 3 * 3              # Cout Hout Wout Cin kh kw
    conv2 = 2 * b * 6 * 2 * 2 * (4 // 2) * 3 * 3       # (5 - 3) // 2 + 1 = 2; Cin / groups
    fc = 2 * b * 6 * 3                                 # pooled 2x2 -> 1x1, 6 features
    assert flops.training_flops(model, (2, 5, 5), batch_size=b) == 2 * conv1 + 3 * conv2 + 3 * fc


def test_the_count_is_linear_in_the_batch_and_matches_the_presets_by_hand():
    mlp = presets.build("mlp", (1, 28, 28), 10, rng=np.random.default_rng(0))
    per_sample = 2 * (784 * 256) * 2 + 2 * (256 * 128) * 3 + 2 * (128 * 10) * 3
    assert flops.training_flops(mlp, (1, 28, 28)) == per_sample
    assert flops.training_flops(mlp, (1, 28, 28), batch_size=5) == 5 * per_sample
    cnn = presets.build("cnn", (1, 28, 28), 10, rng=np.random.default_rng(0))
    conv1, conv2, conv3, conv4 = (2 * 32 * 28 * 28 * 1 * 9, 2 * 64 * 14 * 14 * 32 * 9, 2 * 64 * 14 * 14 * 64 * 9,
                                  2 * 128 * 7 * 7 * 64 * 9)
    fc = 2 * 1152 * 128 + 2 * 128 * 10  # 128 channels pooled to 3x3
    assert flops.training_flops(cnn, (1, 28, 28)) == 2 * conv1 + 3 * (conv2 + conv3 + conv4 + fc)


def test_the_ceiling_and_the_shares_of_a_row():
    assert flops.ceiling_samples_per_second(2e6, 10.0) == pytest.approx(5000.0)
    row = training.with_ceiling({"model": "mlp", "threads": 2, "nntrain": 2500.0, "torch": 1000.0}, 2e6, 10.0)
    assert row["ceiling"] == pytest.approx(5000.0)
    assert row["share_of_ceiling"] == pytest.approx({"nntrain": 0.5, "torch": 0.2})
    assert flops.peak_gflops(2) > 0


def test_the_training_family_reports_the_share_of_the_ceiling_in_json():
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    out = subprocess.run([sys.executable, "-m", "bench", "--quick", "--only", "training", "--json", "--threads", "1"],
                         capture_output=True, text=True, env=env, cwd=ROOT, timeout=900)
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout.strip().splitlines()[-1])["results"]["training"]
    assert [r["model"] for r in rows] == ["mlp", "cnn"]
    for r in rows:
        assert r["ceiling"] == pytest.approx(r["peak_gflops"] * 1e9 / r["flops_per_sample"])
        assert r["share_of_ceiling"]["nntrain"] == pytest.approx(r["nntrain"] / r["ceiling"])
        # the ceiling bounds products computed as counted; the cnn's 3x3 layers run by Winograd need fewer
        bound = 1 if r["model"] == "mlp" else flops.WINOGRAD_F2_SAVING
        assert 0 < r["share_of_ceiling"]["nntrain"] < bound
        assert set(r["share_of_ceiling"]) == {lib for lib in ("nntrain", "torch", "jax") if lib in r}
        assert {k for k in r if k.startswith("vs_")} == {f"vs_{lib}" for lib in ("torch", "jax") if lib in r}
