"""`python -m bench --only scaling`: both presets, each over 1 and 2 MPI ranks, in quick mode."""

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root, home of bench/
from bench import scaling  # noqa: E402

pytest.importorskip("mpi4py", reason="needs mpi4py and an MPI: pip install 'nntrain[mpi]'")
pytestmark = pytest.mark.skipif(shutil.which("mpiexec") is None, reason="no mpiexec on PATH")


def test_the_scaling_family_measures_the_mlp_and_the_cnn_over_ranks_and_threads(monkeypatch):
    monkeypatch.setattr(scaling, "STEPS", {"mlp": (20, 20), "cnn": (3, 3)})  # the rows, not their figures
    rows = scaling.run(quick=True)
    assert [(r["model"], r["ranks"], r["threads"]) for r in rows] == \
        [(m, r, t) for m in ("mlp", "cnn") for r, t in scaling.CONFIGS]
    assert all(r["samples_per_second"] > 0 for r in rows)
