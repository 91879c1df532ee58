"""The microkernel's 64-byte alignment contract (cpp/kernels/gemm_ukernel.h) is kept by the code that calls
it, whatever the alignment of the caller's memory: the peak measurement on a shifted heap, and GEMM,
Linear and Conv2d on operands that start 4 (float32) or 8 (float64) bytes past a 64-byte line."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from nntrain import _core
from nntrain import functional as F

from reference import conv as ref_conv
from reference.linear import linear_backward as ref_linear_backward
from reference.linear import matmul as ref_matmul

# Holds malloc blocks of odd sizes between calls, so that the heap the next std::vector (or any
# malloc-backed buffer) comes from is shifted off 32 and 64 bytes: with storage only malloc-aligned,
# the AVX2 / AVX-512 kernels' aligned loads fault on the first call or soon after. The held blocks grow
# by 8 bytes a round (malloc rounds them to 16), so the heap's offset modulo 64 repeats within 8 rounds;
# 16 rounds go through it twice (each round is a peak measurement: seconds under the sanitizers).
SHIFTED_HEAP = textwrap.dedent("""
    import ctypes
    from nntrain import _core
    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p
    held = []
    for i in range(16):
        for size in (8, 24, 40, 72, 136, 264, 4104, 65544):
            held.append(libc.malloc(size + 8 * i))
        rate = _core.ukernel_peak_gflops()
        assert rate > 0, rate
    print("ok", _core.build_info()["isa"])
""")


# Under AddressSanitizer malloc is ASan's size-class allocator, which the held blocks do not shift, so the
# test proves nothing there, and its 48 peak measurements took 40 s of the instrumented run; the peak's own
# memory is checked under the sanitizers by test_core_gemm's test_microkernel_peak_runs_on_every_isa.
@pytest.mark.skipif(os.environ.get("NNTRAIN_UNDER_SANITIZERS") == "1",
                    reason="ASan's allocator is not shifted by held blocks (scripts/sanitize-test)")
def test_peak_measurement_survives_a_shifted_heap(isa):
    # In a child process: a segfault must fail this test, not end the test run.
    # The same interpreter and import path as the tests: the installed, development or sanitizer build.
    env = dict(os.environ, NNTRAIN_ISA=isa, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    done = subprocess.run([sys.executable, "-X", "faulthandler", "-c", SHIFTED_HEAP], env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"exit status {done.returncode}\n{done.stderr[-2000:]}"
    assert done.stdout.split() == ["ok", isa]


def offset(array, by_bytes):
    """A copy of `array` whose data starts `by_bytes` past a 64-byte boundary (writeable)."""
    raw = np.zeros(array.nbytes + 64 + by_bytes, np.uint8)
    start = (-raw.ctypes.data) % 64 + by_bytes
    out = np.frombuffer(raw.data, dtype=array.dtype, count=array.size, offset=start).reshape(array.shape)
    out[...] = array
    assert out.ctypes.data % 64 == by_bytes and out.flags.c_contiguous and out.flags.writeable
    return out


def shifted(array):
    """Off every vector boundary by one element: 4 bytes for float32, 8 for float64."""
    return offset(array, array.itemsize)


TOL = {np.dtype(np.float32): 2e-5, np.dtype(np.float64): 1e-12}


def close(got, want, K=1):
    tol = TOL[np.dtype(got.dtype)] * max(1.0, np.sqrt(K))
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


# One shape per GEMM strategy: a batch-sized M (barrier-free path), M over one block (blocked path),
# a few tiles with a long K (split along K).
GEMM_SHAPES = [(7, 45, 33), (150, 70, 300), (5, 7, 5003)]


@pytest.mark.parametrize("M,N,K", GEMM_SHAPES)
@pytest.mark.parametrize("ta,tb", [(False, False), (True, False), (False, True), (True, True)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gemm_on_offset_operands(isa, rng, M, N, K, ta, tb, dtype):
    a = rng.standard_normal((K, M) if ta else (M, K)).astype(dtype)
    b = rng.standard_normal((N, K) if tb else (K, N)).astype(dtype)
    want = ref_matmul(a, b, ta, tb)
    close(_core.matmul(shifted(a), shifted(b), ta, tb), want, K)
    c0 = rng.standard_normal((M, N)).astype(dtype)
    c = shifted(c0)
    _core.gemm(c, shifted(a), shifted(b), ta, tb, alpha=1.0, beta=1.0)
    close(c, c0 + want, K)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_linear_on_offset_operands(isa, rng, dtype):
    x = rng.standard_normal((9, 37)).astype(dtype)
    w = rng.standard_normal((21, 37)).astype(dtype)
    bias = rng.standard_normal(21).astype(dtype)
    close(F.linear(shifted(x), shifted(w), shifted(bias)), x @ w.T + bias, 37)
    dout = rng.standard_normal((9, 21)).astype(dtype)
    dx, dw = shifted(np.zeros_like(x)), shifted(np.zeros_like(w))
    F.linear_backward(shifted(dout), shifted(x), shifted(w), dx=dx, dweight=dw)
    want_dx, want_dw, _ = ref_linear_backward(dout, x, w)
    close(dx, want_dx, 21)
    close(dw, want_dw, 9)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conv2d_on_offset_operands(isa, rng, dtype):
    x = rng.standard_normal((3, 2, 9, 7)).astype(dtype)
    w = rng.standard_normal((5, 2, 3, 3)).astype(dtype)
    bias = rng.standard_normal(5).astype(dtype)
    geometry = dict(stride=(2, 1), padding=(1, 1), dilation=(1, 2))
    out = F.conv2d(shifted(x), shifted(w), shifted(bias), **geometry)
    close(out, ref_conv.conv2d(x, w, bias, **geometry), 18)
    dout = rng.standard_normal(out.shape).astype(dtype)
    dx, dw = shifted(np.zeros_like(x)), shifted(np.zeros_like(w))
    F.conv2d_backward(shifted(dout), shifted(x), shifted(w), dx=dx, dweight=dw, **geometry)
    want_dx, want_dw = ref_conv.conv2d_backward(dout, x, w, **geometry)[:2]
    close(dx, want_dx, 45)
    close(dw, want_dw, 3 * out.shape[2] * out.shape[3])
