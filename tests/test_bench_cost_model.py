"""The all-reduce cost model behind `python -m bench --only allreduce`: the α, β fit recovers known values,
the predicted speed-ups and break-even batches follow the formula, and the family runs over 2 MPI ranks."""

import os
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root, home of bench/
from bench import allreduce, cost_model  # noqa: E402


@pytest.mark.parametrize("ranks", [2, 4])
def test_the_fit_recovers_the_latency_and_bandwidth_of_exact_ring_times(ranks):
    alpha, beta = 7e-6, 3e9
    n = np.array(allreduce.sizes(), float)
    t = 2 * (ranks - 1) * alpha + 2 * (ranks - 1) / ranks * n / beta
    got_alpha, got_beta = allreduce.fit(n, t, ranks)
    assert got_alpha == pytest.approx(alpha, rel=1e-6)
    assert got_beta == pytest.approx(beta, rel=1e-6)


def test_message_sizes_run_from_8_bytes_to_64_mib():
    for quick in (False, True):
        sizes = allreduce.sizes(quick)
        assert sizes[0] == 8 and sizes[-1] == 64 << 20 and sizes == sorted(set(sizes))
    assert len(allreduce.sizes()) == 24


def test_the_step_line_splits_a_fixed_cost_from_a_cost_per_sample_and_falls_back_when_noise_bends_it():
    assert cost_model.step_line(1e-3 + 16e-5, 1e-3 + 64e-5) == pytest.approx((1e-3, 1e-5))
    assert cost_model.step_line(2e-3, 1e-3) == (0.0, pytest.approx(1e-3 / 64))    # batch 16 slower than 64
    assert cost_model.step_line(1e-4, 64e-4) == (0.0, pytest.approx(1e-4))        # c < 0: superlinear


def test_one_allreduce_per_gradient_tensor_and_none_on_one_rank():
    alpha, beta, tensors = 1e-5, 1e9, [4000, 400, 40]
    assert cost_model.allreduce_seconds(1, tensors, alpha, beta) == 0.0
    want = 3 * (2 * 3 * alpha) + 2 * 3 / 4 * 4440 / beta
    assert cost_model.allreduce_seconds(4, tensors, alpha, beta) == pytest.approx(want)


def test_without_communication_the_speedup_is_that_of_the_compute_alone():
    rows = cost_model.predict("mlp", fixed=1e-3, per_sample=1e-5, tensor_bytes=[1000], alpha=0.0, beta=1e30)
    for r in rows:
        for b, s in r["speedup"].items():
            p = r["ranks"]
            assert s == (None if b < p else pytest.approx((1e-3 + b * 1e-5) / (1e-3 + b / p * 1e-5)))


def test_doubling_the_ranks_pays_exactly_above_the_break_even_batch():
    fixed, per_sample, tensors, alpha, beta = 2e-3, 5e-5, [10**6, 10**4], 2e-5, 1e9
    for p in cost_model.RANKS:
        b = cost_model.break_even_batch(p, per_sample, tensors, alpha, beta)

        def ratio(batch):
            return (cost_model.step_seconds(p // 2, batch, fixed, per_sample, tensors, alpha, beta)
                    / cost_model.step_seconds(p, batch, fixed, per_sample, tensors, alpha, beta))
        assert ratio(b) == pytest.approx(1.0)
        assert ratio(1.1 * b) > 1.0 > ratio(0.9 * b)


mpi = pytest.mark.skipif(shutil.which("mpiexec") is None or os.system(f"{sys.executable} -c 'import mpi4py'") != 0,
                         reason="needs mpiexec and mpi4py (pip install 'nntrain[mpi]')")


@mpi
def test_the_allreduce_family_measures_two_ranks_and_predicts_both_presets():
    result = cost_model.run(quick=True)
    assert result["ranks"] == 2 and result["alpha"] > 0 and result["beta"] > 0
    assert [m["bytes"] for m in result["messages"]] == allreduce.sizes(quick=True)
    assert all(m["seconds"] > 0 for m in result["messages"])
    assert [m["costs"]["model"] for m in result["models"]] == ["mlp", "cnn"]
    for m in result["models"]:
        assert m["costs"]["per_sample_us"] > 0
        assert [r["ranks"] for r in m["predictions"]] == list(cost_model.RANKS)
