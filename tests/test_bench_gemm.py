"""The GEMM family of `python -m bench`: each row is checked against NumPy, and a product by panels or blocks
also reports the way round gemm_plan chose and the rate the other way, which the cost rule is judged by."""

import sys
from pathlib import Path

import numpy as np

from nntrain import _core

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench import gemm  # noqa: E402
from bench.__main__ import show_gemm  # noqa: E402


def test_a_row_reports_the_way_round_and_the_other_way(capsys):
    rng = np.random.default_rng(0)
    row = gemm.measure("fc", 64, 256, 128, False, True, torch=None, rng=rng)
    turned = _core.gemm_plan(64, 256, 128, False, True)["transposed"]
    assert row["way"] == ("turned" if turned else "as given")
    assert row["other_way"] > 0 and row["nntrain"] > 0 and row["numpy"] > 0
    kc = _core.gemm_plan(1, 1, 1)["kc"]
    dot = gemm.measure("dW of a few tiles", 5, 7, kc + 3, False, True, torch=None, rng=rng)
    assert dot["way"] == "dot" and "other_way" not in dot
    show_gemm([row, dot], 1)
    out = capsys.readouterr().out
    assert "way round" in out and "other way" in out and row["way"] in out
