"""The compiled core under AddressSanitizer + UndefinedBehaviorSanitizer: scripts/sanitize-test builds an
instrumented copy and runs every kernel test on it, under every ISA; any out-of-bounds access, use after
free, overflow or other undefined behaviour aborts the run. Build and run start in the background when the
session starts (background_builds.py); this test, run last, reads their outcome."""

import re
import shutil

import pytest

import background_builds
from conftest import needs_source_tree

pytestmark = [pytest.mark.slow, needs_source_tree, pytest.mark.background_build("sanitizer-core")]


def _missing_tools():
    missing = [tool for tool in ("cmake", "ninja", "gcc") if shutil.which(tool) is None]
    try:
        import pybind11  # noqa: F401
    except ImportError:
        missing.append("pybind11")
    return missing


@pytest.mark.skipif(bool(_missing_tools()), reason=f"sanitizer build needs {', '.join(_missing_tools())} "
                    "(pip install '.[test]' brings cmake, ninja and pybind11)")
def test_kernel_tests_pass_under_asan_and_ubsan():
    status, log = background_builds.wait("sanitizer-core")
    report = log[-6000:]
    assert status == 0, f"the instrumented build or a kernel test on it failed:\n{report}"
    assert "ERROR: AddressSanitizer" not in log and "runtime error:" not in log, report
    assert re.search(r"^\d+ passed", log, re.M), report
