"""Run-time kernel dispatch (cpp/dispatch.cpp): select_isa and NNTRAIN_ISA switch every entry of the kernel
table to code compiled for that instruction set, the register tile changes with it, and everything outside
the ISA files is compiled for baseline x86-64."""

import os
import subprocess
import sys

import pytest

import nntrain
from nntrain import _core

from conftest import supported_isas

# These tests choose ISAs themselves (conftest.py would otherwise run each once per ISA).
pytestmark = pytest.mark.isa_independent


def test_every_dispatched_kernel_was_compiled_for_the_selected_isa(isa):
    kernels = _core.dispatched_kernels()
    assert {"sgemm", "dgemm", "swinograd", "dwinograd", "soptim", "doptim"} <= set(kernels)
    assert {name: k["compiled_for"] for name, k in kernels.items()} == {name: isa for name in kernels}
    assert nntrain.build_info()["isa"] == isa


def test_the_gemm_register_tile_changes_with_the_isa():
    tiles = {}
    try:
        for name in supported_isas():
            _core.select_isa(name)
            kernels = _core.dispatched_kernels()
            tiles[name] = tuple((kernels[k]["mr"], kernels[k]["nr"]) for k in ("sgemm", "dgemm"))
    finally:
        _core.select_isa("auto")
    assert all(mr > 0 and nr > 0 for tile in tiles.values() for mr, nr in tile)
    assert len(set(tiles.values())) == len(tiles), tiles
    if "avx2" in tiles:
        # A 256-bit register holds 8 floats or 4 doubles: the tile's width is a whole number of registers.
        assert tiles["avx2"][0][1] % 8 == 0 and tiles["avx2"][1][1] % 4 == 0
    if "avx512" in tiles:
        assert tiles["avx512"][0][1] % 16 == 0 and tiles["avx512"][1][1] % 8 == 0


def test_select_isa_refuses_what_the_cpu_cannot_run():
    best = nntrain.build_info()["isa_supported"]
    if best == "avx512":
        pytest.skip("this CPU runs every ISA nntrain has")
    beyond = ["ref", "avx2", "avx512"][["ref", "avx2", "avx512"].index(best) + 1]
    with pytest.raises(ValueError, match=f"this CPU cannot run {beyond} kernels"):
        _core.select_isa(beyond)
    assert _core.dispatched_kernels()["sgemm"]["compiled_for"] == best


@pytest.mark.parametrize("forced", supported_isas())
def test_nntrain_isa_switches_every_kernel_of_a_new_process(forced):
    code = ("import nntrain; from nntrain import _core; i = nntrain.build_info(); "
            "print(i['isa'], *sorted({k['compiled_for'] for k in _core.dispatched_kernels().values()}))")
    env = dict(os.environ, NNTRAIN_ISA=forced, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.split() == [forced, forced]


def test_code_outside_the_isa_files_targets_baseline_x86_64():
    # The flags of every file but the ISA ones are the compiler's defaults: no -march=native, no -mavx2.
    assert nntrain.build_info()["baseline"] == "ref"
