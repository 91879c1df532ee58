"""GEMM: every transpose combination, alpha/beta, bias epilogue, block-edge sizes, every ISA."""

import numpy as np
import pytest

from nntrain import _core
from nntrain import functional as F

from conftest import num_threads
from reference.linear import matmul as ref_matmul

# Sizes around the register tiles (4x8, 6x16, 12x32) and cache blocks (mc 96..144, kc 256, nc 2048+).
SHAPES = [
    (1, 1, 1), (1, 7, 3), (5, 1, 9), (2, 3, 0), (12, 32, 1), (13, 33, 17), (11, 31, 255),
    (97, 17, 256), (145, 65, 257), (64, 256, 784), (37, 2049, 19), (3, 4100, 5),
]
TOL = {np.float32: 2e-5, np.float64: 1e-12}


def operands(rng, M, N, K, ta, tb, dtype):
    a = rng.standard_normal((K, M) if ta else (M, K)).astype(dtype)
    b = rng.standard_normal((N, K) if tb else (K, N)).astype(dtype)
    return a, b


def close(got, want, dtype, K):
    scale = max(1.0, np.sqrt(max(K, 1)))
    np.testing.assert_allclose(got, want, rtol=TOL[dtype] * scale, atol=TOL[dtype] * scale)


@pytest.mark.parametrize("M,N,K", SHAPES)
@pytest.mark.parametrize("ta", [False, True])
@pytest.mark.parametrize("tb", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matmul_matches_numpy(isa, rng, M, N, K, ta, tb, dtype):
    a, b = operands(rng, M, N, K, ta, tb, dtype)
    got = F.matmul(a, b, trans_a=ta, trans_b=tb)
    assert got.dtype == dtype and got.shape == (M, N)
    close(got, ref_matmul(a, b, ta, tb), dtype, K)


@pytest.mark.parametrize("M,N,K", [(13, 33, 17), (64, 256, 784), (150, 70, 300)])
@pytest.mark.parametrize("ta,tb", [(False, False), (True, False), (False, True), (True, True)])
@pytest.mark.parametrize("along", ["rows", "cols"])
def test_gemm_alpha_beta_bias(isa, rng, M, N, K, ta, tb, along):
    a, b = operands(rng, M, N, K, ta, tb, np.float64)
    c0 = rng.standard_normal((M, N))
    bias = rng.standard_normal(M if along == "rows" else N)
    c = c0.copy()
    _core.gemm(c, a, b, ta, tb, alpha=0.5, beta=-2.0, bias=bias, bias_along=along)
    want = -2.0 * c0 + 0.5 * ref_matmul(a, b, ta, tb) + (bias[:, None] if along == "rows" else bias[None, :])
    close(c, want, np.float64, K)


def test_beta_zero_never_reads_c(isa, rng):
    a, b = operands(rng, 29, 45, 70, False, False, np.float32)
    c = np.full((29, 45), np.nan, dtype=np.float32)
    _core.gemm(c, a, b, beta=0.0)
    assert np.isfinite(c).all()
    close(c, ref_matmul(a, b), np.float32, 70)


def test_k_zero_scales_and_adds_bias():
    c = np.ones((3, 4))
    _core.gemm(c, np.zeros((3, 0)), np.zeros((0, 4)), beta=3.0, bias=np.arange(4.0), bias_along="cols")
    np.testing.assert_array_equal(c, np.broadcast_to(3.0 + np.arange(4.0), (3, 4)))


@pytest.mark.parametrize("M,N,K", [(13, 33, 17), (64, 256, 784)])
def test_naive_twin_agrees(rng, M, N, K):
    a, b = operands(rng, M, N, K, True, False, np.float64)
    c1, c2 = np.zeros((M, N)), np.zeros((M, N))
    _core.gemm(c1, a, b, trans_a=True)
    _core.gemm(c2, a, b, trans_a=True, naive=True)
    close(c1, c2, np.float64, K)


def test_simd_kernels_match_portable_kernel(rng):
    a, b = operands(rng, 200, 300, 500, False, True, np.float64)
    results = {}
    for isa in ("ref", "avx2", "avx512"):
        try:
            _core.select_isa(isa)
        except ValueError:
            continue
        results[isa] = F.matmul(a, b, trans_b=True)
    _core.select_isa("auto")
    for isa, got in results.items():
        np.testing.assert_allclose(got, results["ref"], rtol=1e-12, atol=1e-12, err_msg=isa)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_results_identical_for_any_thread_count(rng, dtype):
    a, b = operands(rng, 300, 517, 700, True, False, dtype)
    with num_threads(1):
        one = F.matmul(a, b, trans_a=True)
    with num_threads(2):
        two = F.matmul(a, b, trans_a=True)
        again = F.matmul(a, b, trans_a=True)
    np.testing.assert_array_equal(one, two)
    np.testing.assert_array_equal(two, again)


def test_bad_arguments_raise_value_error(rng):
    a = rng.standard_normal((3, 4)).astype(np.float32)
    with pytest.raises(ValueError, match=r"inner dimensions do not match: op\(a\) is \(3, 4\) and op\(b\) is \(5, 2\)"):
        F.matmul(a, np.zeros((5, 2), np.float32))
    with pytest.raises(ValueError, match="b: expected a float32 array, got float64"):
        F.matmul(a, np.zeros((4, 2)))
    with pytest.raises(ValueError, match="a: expected a float32 or float64 array, got int64"):
        F.matmul(np.zeros((3, 4), np.int64), np.zeros((4, 2)))
    with pytest.raises(ValueError, match="C-contiguous"):
        F.matmul(np.asfortranarray(rng.standard_normal((3, 4))), np.zeros((4, 2)))
    with pytest.raises(ValueError, match="a: expected a 2-D array"):
        F.matmul(np.zeros(3, np.float32), np.zeros((3, 2), np.float32))
    with pytest.raises(ValueError, match=r"c: expected shape \(3, 2\), got \(2, 3\)"):
        _core.gemm(np.zeros((2, 3), np.float32), a, np.zeros((4, 2), np.float32))
    ro = np.zeros((3, 2), np.float32)
    ro.setflags(write=False)
    with pytest.raises(ValueError, match="c: array is read-only"):
        _core.gemm(ro, a, np.zeros((4, 2), np.float32))
    with pytest.raises(ValueError, match="bias_along"):
        _core.gemm(np.zeros((3, 2), np.float32), a, np.zeros((4, 2), np.float32), bias_along="diag")


@pytest.mark.parametrize("trans_a,trans_b", [(False, False), (False, True), (True, False), (True, True)])
@pytest.mark.parametrize("M,N,K", [(32, 9, 50176), (5, 7, 5003), (12, 64, 2049)])
def test_long_k_products_split_along_k_match_the_naive_twin(rng, isa, trans_a, trans_b, M, N, K):
    # Results of a few tiles with K in the thousands are computed in K parts summed in a fixed order.
    a = rng.standard_normal((K, M) if trans_a else (M, K))
    b = rng.standard_normal((N, K) if trans_b else (K, N))
    c = rng.standard_normal((M, N))
    bias = rng.standard_normal(N)
    want = c.copy()
    _core.gemm(want, a, b, trans_a, trans_b, 0.5, 2.0, bias, "cols", naive=True)
    runs = []
    for n in (1, 2):
        with num_threads(n):
            got = c.copy()
            _core.gemm(got, a, b, trans_a, trans_b, 0.5, 2.0, bias, "cols")
            runs.append(got)
    np.testing.assert_allclose(runs[0], want, rtol=1e-10, atol=1e-9)
    np.testing.assert_array_equal(runs[0], runs[1])
