import contextlib
import os
import zlib

import numpy as np
import pytest

import nntrain
from nntrain import _core

import background_builds

ISA_ORDER = ["ref", "avx2", "avx512"]

# Tests that build from or read the source tree (the sanitizer build, the wheel, the stub generator) skip
# when run from a copy of tests/ beside an installed wheel, as cibuildwheel runs them.
SOURCE_TREE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
needs_source_tree = pytest.mark.skipif(not os.path.exists(os.path.join(SOURCE_TREE, "CMakeLists.txt")),
                                       reason="needs the source tree (cibuildwheel tests the installed wheel)")

# PyTorch is a test oracle, never a dependency. Tests that need it are marked `torch` (pyproject.toml) and
# skip without it, except when NNTRAIN_REQUIRE_TORCH=1 (CI, after installing it: `.ci/run`), where a
# missing torch or a skipped oracle test is a failure: an oracle that never runs guards nothing.
TORCH_REQUIRED = os.environ.get("NNTRAIN_REQUIRE_TORCH") == "1"
TORCH_MISSING = "PyTorch is not installed (a test oracle only: pip install torch==2.13.0)"


def import_torch():
    """torch, for a module of oracle tests (call at its top, beside `pytestmark = pytest.mark.torch`)."""
    try:
        import torch
    except ImportError:
        if TORCH_REQUIRED:
            pytest.fail(f"NNTRAIN_REQUIRE_TORCH=1 but {TORCH_MISSING}", pytrace=False)
        pytest.skip(TORCH_MISSING, allow_module_level=True)
    return torch


def pytest_runtest_setup(item):
    if item.get_closest_marker("torch") is not None:
        import_torch()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if (TORCH_REQUIRED and report.skipped and not hasattr(report, "wasxfail")
            and item.get_closest_marker("torch") is not None):
        report.outcome = "failed"
        report.longrepr = f"NNTRAIN_REQUIRE_TORCH=1: oracle test skipped instead of running: {report.longrepr}"


def supported_isas():
    best = _core.build_info()["isa_supported"]
    return ISA_ORDER[: ISA_ORDER.index(best) + 1]


@pytest.fixture(params=supported_isas())
def isa(request):
    """Runs a test once per instruction set this CPU supports, restoring the automatic choice after."""
    _core.select_isa(request.param)
    yield request.param
    _core.select_isa(os.environ.get("NNTRAIN_ISA", "auto") if os.environ.get("NNTRAIN_ISA") in ISA_ORDER else "auto")


def pytest_collection_modifyitems(session, config, items):
    # Tests that wait for a background build run last, so that the build has the whole session to finish.
    items.sort(key=lambda item: item.get_closest_marker("background_build") is not None)


def pytest_collection_finish(session):
    if session.config.option.collectonly:
        return
    for item in session.items:
        mark = item.get_closest_marker("background_build")
        skipped = any(bool(m.args[0]) for m in item.iter_markers("skipif") if m.args)
        if mark is not None and not skipped:
            background_builds.start(mark.args[0])


def pytest_sessionfinish(session):
    background_builds.stop_all()


def pytest_collectstart(collector):
    # Every test of the compiled kernels (tests/test_core_*.py) runs once per instruction set this CPU
    # offers, so an AVX-512 machine also tests the AVX2 and portable paths and an AVX2 machine the portable
    # one. A module whose tests do not depend on the kernels in use, or that switch ISAs themselves, says
    # so with `pytestmark = pytest.mark.isa_independent`.
    if (isinstance(collector, pytest.Module) and collector.path.name.startswith("test_core_")
            and collector.obj is not None and collector.get_closest_marker("isa_independent") is None):
        collector.add_marker(pytest.mark.usefixtures("isa"))


@contextlib.contextmanager
def num_threads(n):
    """Temporarily run the kernels on n threads."""
    before = nntrain.get_num_threads()
    nntrain.set_num_threads(n)
    try:
        yield
    finally:
        nntrain.set_num_threads(before)


@pytest.fixture
def rng(request):
    # A fixed seed per test, derived from its name with a stable hash (str hash() changes from process
    # to process), so a failure reproduces.
    return np.random.default_rng(zlib.crc32(request.node.nodeid.encode()))
