import contextlib
import os
import zlib

import numpy as np
import pytest

import nntrain
from nntrain import _core

ISA_ORDER = ["ref", "avx2", "avx512"]


def supported_isas():
    best = _core.build_info()["isa_supported"]
    return ISA_ORDER[: ISA_ORDER.index(best) + 1]


@pytest.fixture(params=supported_isas())
def isa(request):
    """Runs a test once per instruction set this CPU supports, restoring the automatic choice after."""
    _core.select_isa(request.param)
    yield request.param
    _core.select_isa(os.environ.get("NNTRAIN_ISA", "auto") if os.environ.get("NNTRAIN_ISA") in ISA_ORDER else "auto")


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
