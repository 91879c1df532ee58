"""build_info, thread control and ISA selection."""

import os
import subprocess
import sys

import pytest

import nntrain
from nntrain import _core

# Build facts, threads and ISA selection itself: these run once, not once per ISA (conftest.py).
pytestmark = pytest.mark.isa_independent


def test_build_info_reports_build_and_runtime():
    info = nntrain.build_info()
    assert info["version"] == nntrain.__version__
    assert info["isa"] in ("ref", "avx2", "avx512")
    assert info["isa_supported"] in ("ref", "avx2", "avx512")
    assert isinstance(info["openmp"], bool)
    assert info["threads"] == nntrain.get_num_threads() >= 1
    assert info["compiler"]
    assert info["flush_denormals"] is True


def test_set_num_threads_validates():
    before = nntrain.get_num_threads()
    try:
        nntrain.set_num_threads(1)
        assert nntrain.get_num_threads() == 1
    finally:
        nntrain.set_num_threads(before)
    with pytest.raises(ValueError, match="num_threads must be >= 1, got 0"):
        nntrain.set_num_threads(0)
    with pytest.raises(TypeError):
        nntrain.set_num_threads(1.5)


def run_python(code, **env):
    full_env = dict(os.environ, **env)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=full_env, check=True).stdout


def test_omp_num_threads_is_honoured():
    out = run_python("import nntrain; print(nntrain.get_num_threads())", OMP_NUM_THREADS="1")
    assert out.strip() == "1"


def test_nntrain_isa_override_and_bad_values():
    out = run_python("import nntrain; i = nntrain.build_info(); print(i['isa'], repr(i['isa_note']))", NNTRAIN_ISA="ref")
    assert out.split()[0] == "ref"
    out = run_python("import nntrain; i = nntrain.build_info(); print(i['isa_note'])", NNTRAIN_ISA="sse9")
    assert "NNTRAIN_ISA=sse9 is not one of" in out


def test_select_isa_rejects_unknown_names():
    with pytest.raises(ValueError, match="isa: expected one of ref, avx2, avx512"):
        _core.select_isa("neon")
