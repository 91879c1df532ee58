"""The training table's ratios (bench/training.py): each is the median over the rounds of the two libraries'
passes in the same round, so a slow spell of the host that spans one round moves neither ratio."""

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the repository root, home of bench/

from bench import training  # noqa: E402


def test_ratios_pair_the_passes_of_a_round():
    # the host slowed by half in the second round: every library's pass there is slow, the ratio is not
    passes = {"nntrain": [100.0, 50.0, 90.0], "torch": [50.0, 25.0, 60.0], "jax": []}
    assert training.paired_ratios(passes) == {"vs_torch": pytest.approx(2.0)}
    passes["jax"] = [80.0, 40.0, 100.0]
    assert training.paired_ratios(passes)["vs_jax"] == pytest.approx(1.25)


def test_a_peer_that_did_not_run_has_no_ratio():
    assert training.paired_ratios({"nntrain": [1.0, 2.0], "torch": [], "jax": []}) == {}


def test_nntrain_runs_next_to_each_peer_and_the_peers_take_turns_before_it():
    orders = [training.round_order(r) for r in range(4)]
    assert all(order[1] == "nntrain" and sorted(order) == ["jax", "nntrain", "torch"] for order in orders)
    assert orders[0] != orders[1] and orders[0] == orders[2]  # each peer before nntrain every other round


def test_round_counts_are_even():
    assert all(rounds % 2 == 0 for _, _, rounds in training.PASSES + training.QUICK_PASSES)
