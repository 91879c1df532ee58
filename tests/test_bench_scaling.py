"""`python -m bench --only scaling`: both presets, each over 1 and 2 MPI ranks, in quick mode."""

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root, home of bench/
from bench import scaling  # noqa: E402


def _has_mpi():
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return False
    return shutil.which("mpiexec") is not None


@pytest.mark.skipif(not _has_mpi(), reason="needs mpi4py and mpiexec: pip install 'nntrain[mpi]'")
def test_the_scaling_family_measures_the_mlp_and_the_cnn_over_ranks_and_threads(monkeypatch):
    monkeypatch.setattr(scaling, "STEPS", {"mlp": (20, 20), "cnn": (3, 3)})  # the rows, not their figures
    rows = scaling.run(quick=True)
    assert [(r["model"], r["ranks"], r["threads"]) for r in rows] == \
        [(m, r, t) for m in ("mlp", "cnn") for r, t in scaling.CONFIGS]
    assert all(r["samples_per_second"] > 0 for r in rows)


def test_an_mpiexec_that_fails_leaves_its_rows_empty_with_a_one_line_reason(monkeypatch, tmp_path, capsys):
    # Open MPI run as root refuses to start and frames its reason in dashes: the bench goes on without the rows
    fake = tmp_path / "mpiexec"
    fake.write_text("#!/bin/sh\necho '-----'>&2\necho 'mpiexec has detected an attempt to run as root.'>&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setattr(scaling, "mpiexec_or_none", lambda: str(fake))
    rows = scaling.run(quick=True)
    assert rows and all(r["samples_per_second"] is None for r in rows)
    err = capsys.readouterr().err.splitlines()
    assert len(err) == len(rows) and all(line.endswith("failed: mpiexec has detected an attempt to run as root.")
                                         for line in err)
