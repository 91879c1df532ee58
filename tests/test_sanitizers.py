"""The compiled core under AddressSanitizer + UndefinedBehaviorSanitizer: scripts/sanitize-test builds an
instrumented copy and runs every kernel test on it; any out-of-bounds access, use after free, overflow or
other undefined behaviour aborts the run. The build starts in the background when the session starts
(background_builds.py); the test runs last and then runs the kernel tests, under every ISA, on it."""

import os
import shutil
import subprocess

import pytest

import background_builds
from conftest import needs_source_tree

pytestmark = [pytest.mark.slow, needs_source_tree, pytest.mark.background_build("sanitizer-core")]

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "scripts", "sanitize-test")


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
    assert status == 0, f"the instrumented build failed:\n{log[-3000:]}"
    result = subprocess.run([SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=1500)
    report = result.stdout[-3000:] + result.stderr[-3000:]
    assert result.returncode == 0, report
    assert "ERROR: AddressSanitizer" not in report and "runtime error:" not in report, report
    assert " passed" in result.stdout
