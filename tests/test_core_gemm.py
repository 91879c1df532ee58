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


@pytest.fixture(autouse=True)
def untuned():
    # the plans asserted here are the cost rule's: no way round settled by an earlier test's timing
    _core.gemm_tuning_clear()
    yield
    _core.gemm_tuning_clear()


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


def test_shared_tails_of_the_threads_shares_compute_every_column_once(isa, rng):
    # At 2 threads the last 15% of each thread's column panels go to whichever thread is free (gemm.cpp,
    # PanelTails): with beta != 0 a panel computed twice or never would show, and the bits must be those of
    # one thread. Widths: a tail of one run and tails of several, on 32- and 16-column panels.
    for N in (70 * 32, 2000):
        a, b = operands(rng, 37, N, 50, False, False, np.float32)
        c0 = rng.standard_normal((37, N)).astype(np.float32)
        want = 0.5 * c0 + ref_matmul(a, b, False, False)
        results = {}
        for threads in (1, 2):
            c = c0.copy()
            with num_threads(threads):
                _core.gemm(c, a, b, beta=0.5, orientation="as_given")
            results[threads] = c
        np.testing.assert_array_equal(results[2], results[1])
        close(results[2], want, np.float32, 50)


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


# ---- the three strategies (see cpp/gemm.cpp), each reached on purpose under every ISA ----------------------

# The way round each path is run: the dot and split-K strategies choose their own; panels and blocked are
# forced one way or the other (gemm_plan's cost rule would otherwise pick it), "transposed" being panels
# computed as C^T = op(B)^T op(A)^T.
ORIENTATION = {"panels": "as_given", "blocked": "as_given", "split_k": "auto", "dot": "auto",
               "transposed": "transposed"}


def plan_shape(path, ta, tb):
    """An (M, N, K) that gemm computes by `path` for these transpose flags with the kernels in use, found
    from gemm_plan, with edges that are no multiple of the register tile or the K block."""
    tile = _core.gemm_plan(1, 1, 1)
    mr, nr, kc = tile["mr"], tile["nr"], tile["kc"]
    candidates = {
        "panels": [(3 * mr + 1, 5 * nr + 3, kc + 7), (2 * mr + 5, 9 * nr - 1, 2 * kc + 3)],
        # (tried in order, the big ones first: GEMM keeps a product of under 0.5M multiply-adds on one thread)
        "blocked": [(100 * mr + 5, nr - 3, kc + 9), (40 * mr + 5, nr - 3, kc + 9), (40 * mr + 5, nr, 300)],
        "split_k": [(mr + 1, nr - 1, 9 * kc + 11), (5, 7, 8 * kc + 3)],
        "dot": [(2 * mr, 2 * nr - 1, 4 * kc + 5), (5, 7, kc + 3), (mr + 1, nr - 1, 2 * kc + 5)],
        "transposed": [(10 * nr + 1, 3 * nr + 5, kc + 5), (nr - 3, 5 * nr + 1, kc + 5)],
    }
    strategy = "panels" if path == "transposed" else path
    with num_threads(2):
        for M, N, K in candidates[path]:
            plan = _core.gemm_plan(M, N, K, ta, tb, orientation=ORIENTATION[path])
            if plan["strategy"] == strategy and plan["transposed"] == (path == "transposed"):
                return M, N, K
    return None


FLAGS = [(False, False), (True, False), (False, True), (True, True)]
PATHS = [(path, ta, tb) for path in ("panels", "blocked", "split_k", "transposed") for ta, tb in FLAGS]
PATHS += [("dot", False, True)]  # both operands along K: the only layout the dot kernel takes


@pytest.mark.parametrize("path,ta,tb", PATHS)
def test_each_strategy_matches_the_naive_twin_and_any_thread_count(isa, rng, path, ta, tb):
    shape = plan_shape(path, ta, tb)
    assert shape is not None, f"no test shape reaches {path} with {isa}"
    M, N, K = shape
    a, b = operands(rng, M, N, K, ta, tb, np.float64)
    c0 = rng.standard_normal((M, N))
    for along, bias in (("rows", rng.standard_normal(M)), ("cols", rng.standard_normal(N))):
        want = c0.copy()
        _core.gemm(want, a, b, ta, tb, 0.5, -1.5, bias, along, naive=True)
        runs = []
        for threads in (1, 2):
            with num_threads(threads):
                got = c0.copy()
                _core.gemm(got, a, b, ta, tb, 0.5, -1.5, bias, along, orientation=ORIENTATION[path])
                runs.append(got)
        close(runs[0], want, np.float64, K)
        np.testing.assert_array_equal(runs[0], runs[1])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("ta,tb", FLAGS)
def test_either_way_round_gives_the_same_bits(isa, rng, dtype, ta, tb):
    # gemm_plan may turn a product around depending on the threads, so both ways must give every element the
    # same bits, edge tiles included (they are written through the kernel's scalar path), for any beta
    tile = _core.gemm_plan(1, 1, 1)
    mr, nr, kc = tile["mr"], tile["nr"], tile["kc"]
    for M, N, K in ((2 * mr + 5, 3 * nr + 7, 2 * kc + 9), (64, 4 * nr, 200)):
        a, b = operands(rng, M, N, K, ta, tb, dtype)
        c0 = rng.standard_normal((M, N)).astype(dtype)
        for beta in (0.0, 1.0, -1.5):
            runs = []
            for threads in (1, 2):
                for orientation in ("as_given", "transposed"):
                    with num_threads(threads):
                        plan = _core.gemm_plan(M, N, K, ta, tb, np.dtype(dtype).name, orientation)
                        assert plan["transposed"] == (orientation == "transposed")
                        c = c0.copy()
                        _core.gemm(c, a, b, ta, tb, 0.75, beta, orientation=orientation)
                        runs.append(c)
            for c in runs[1:]:
                np.testing.assert_array_equal(c, runs[0])
            close(runs[0], beta * c0 + 0.75 * ref_matmul(a, b, ta, tb), dtype, K)


def test_a_small_batch_times_a_wide_layer_packs_the_batch_not_the_weights(isa):
    # x (64, 1024) . W^T with W (1024, 1024): computed as given, all of W is transposed into panels for 64
    # rows of multiply-adds; turned around, only x is. The cost rule turns it, on one thread and on two (where
    # either way round leaves a column panel for each thread), and leaves the mirror image as given, and a
    # product whose turned-around C would be written by columns for little saving.
    for threads in (1, 2):
        with num_threads(threads):
            assert _core.gemm_plan(64, 1024, 1024, False, True)["transposed"]
            assert not _core.gemm_plan(1024, 64, 1024, False, True)["transposed"]
            assert not _core.gemm_plan(64, 3136, 128)["transposed"]


def test_split_k_parts_of_a_dot_product_layout_use_the_dot_kernel(isa):
    # A result of two register tiles: K parts when K spans at least 8 K blocks, the dot kernel for both
    # operands along K (C = A B^T), packed panels otherwise. Shapes follow each ISA's own tile.
    tile = _core.gemm_plan(1, 1, 1)
    mr, nr, kc = tile["mr"], tile["nr"], tile["kc"]
    long_k = _core.gemm_plan(mr + 1, nr - 1, 8 * kc + 3, False, True)
    assert long_k["strategy"] == "split_k" and long_k["k_parts"] == 2 and long_k["dot"]
    assert not _core.gemm_plan(mr + 1, nr - 1, 8 * kc + 3, True, False)["dot"]
    assert _core.gemm_plan(mr + 1, nr - 1, 2 * kc, False, True)["strategy"] == "dot"
    if isa != "ref":  # the cnn's conv1 weight gradient is a few tiles of the 6x16 and 12x32 tiles (not 4x8)
        conv1_dw = _core.gemm_plan(32, 9, 50176, False, True)
        assert conv1_dw["strategy"] == "split_k" and conv1_dw["dot"]


@pytest.mark.parametrize("path,ta,tb", [(p, False, True) for p in ("panels", "blocked", "split_k", "dot", "transposed")])
def test_beta_zero_ignores_nan_in_c_on_every_path(isa, rng, path, ta, tb):
    M, N, K = plan_shape(path, ta, tb)
    a, b = operands(rng, M, N, K, ta, tb, np.float32)
    with num_threads(2):
        c = np.full((M, N), np.nan, dtype=np.float32)
        _core.gemm(c, a, b, ta, tb, beta=0.0, orientation=ORIENTATION[path])
    assert np.isfinite(c).all()
    close(c, ref_matmul(a, b, ta, tb), np.float32, K)


@pytest.mark.parametrize("ta,tb", [(False, False), (True, True)])
def test_operands_at_odd_offsets_and_row_strides(isa, rng, ta, tb):
    # Views one element into a buffer (not 64-byte aligned) and column slices of wider arrays
    # (row stride > width): a, b and c are all used in place.
    M, N, K = 37, 70, 300
    a_full = rng.standard_normal((K + 1, M + 5) if ta else (M + 1, K + 5))
    b_full = rng.standard_normal((N + 1, K + 3) if tb else (K + 1, N + 3))
    a = a_full[1:, 2:2 + (M if ta else K)]
    b = b_full[1:, 1:1 + (K if tb else N)]
    c_full = np.zeros((M + 1, N + 4))
    c = c_full[1:, 3:3 + N]
    _core.gemm(c, a, b, ta, tb)
    close(c, ref_matmul(np.ascontiguousarray(a), np.ascontiguousarray(b), ta, tb), np.float64, K)
    assert not c_full[0].any() and not c_full[1:, :3].any() and not c_full[1:, 3 + N:].any()
    close(F.matmul(a, b, ta, tb), c, np.float64, K)


def rows_4kib_apart(values):
    """values (2-D) as a column slice of a wider array whose rows are a multiple of 4 KiB apart."""
    pages = -(-values.shape[1] * values.itemsize // 4096)
    wide = np.zeros((values.shape[0], pages * 4096 // values.itemsize), values.dtype)
    wide[:, : values.shape[1]] = values
    return wide[:, : values.shape[1]]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("ta,tb", [(False, False), (True, False), (False, True), (True, True)])
@pytest.mark.parametrize("orientation", ["as_given", "transposed"])
def test_operand_rows_4kib_apart_give_the_bits_of_rows_that_are_not(isa, rng, dtype, ta, tb, orientation):
    # Rows of the panels' A (either operand, by the way round) a multiple of 4 KiB apart are copied whole to
    # an alias-free pitch (by columns on a tile narrower than half a line, each micro-panel is packed instead)
    # before the microkernels read them (gemm.cpp, rows_alias_in_l1): the same kernels on the same values. M has full tiles and edge rows on every ISA,
    # K two K blocks.
    M, N, K = 41, 70, 600
    a, b = operands(rng, M, N, K, ta, tb, dtype)
    want = np.empty((M, N), dtype)
    got = np.empty((M, N), dtype)
    with num_threads(2):
        _core.gemm(want, a, b, ta, tb, orientation=orientation)
        _core.gemm(got, rows_4kib_apart(a), rows_4kib_apart(b), ta, tb, orientation=orientation)
    assert _core.gemm_plan(M, N, K, ta, tb)["strategy"] == "panels"
    np.testing.assert_array_equal(got, want)
    close(got, ref_matmul(a, b, ta, tb), dtype, K)


@pytest.mark.parametrize("ta", [False, True])
def test_an_aliasing_a_copied_whole_gives_the_bits_of_one_thread_whichever_dimension_is_shared(isa, rng, ta):
    # the threads copy their shares of A's rows, then every thread reads rows the others copied (the split
    # by column panels) or only its own (the split by row panels that Linear asks for)
    M, N, K = (300, 256, 1024) if not ta else (1024, 256, 300)
    a, b = operands(rng, M, N, K, ta, False, np.float32)
    runs = []
    for threads, split in ((1, "auto"), (2, "rows"), (2, "cols")):
        with num_threads(threads):
            assert _core.gemm_plan(M, N, K, ta, False, orientation="as_given", split=split)["split_rows"] == \
                (split == "rows")
            c = np.empty((M, N), np.float32)
            _core.gemm(c, a, b, ta, False, orientation="as_given", split=split)
            runs.append(c)
    for c in runs[1:]:
        np.testing.assert_array_equal(c, runs[0])
    close(runs[0], ref_matmul(a, b, ta, False), np.float32, K)


@pytest.mark.parametrize("ta", [False, True])
def test_an_aliasing_a_too_large_to_copy_whole_gives_the_bits_of_one_that_does_not_alias(isa, rng, ta):
    # An A whose rows are 4 KiB apart is copied whole to an alias-free pitch when the copy takes at most
    # 32 MiB (kWholeACopyBytes, the case above); a larger one is copied, or packed by columns, a row panel at
    # a time in every column group. 8200 stored rows of 1024 floats: 33.6 MB.
    M, N, K = (8200, 256, 1024) if not ta else (1024, 256, 8200)
    a, b = operands(rng, M, N, K, ta, False, np.float32)
    padded = np.zeros((a.shape[0], a.shape[1] + 16), np.float32)
    padded[:, : a.shape[1]] = a
    want = np.empty((M, N), np.float32)
    got = np.empty((M, N), np.float32)
    with num_threads(2):
        assert _core.gemm_plan(M, N, K, ta, False, orientation="as_given")["strategy"] == "panels"
        _core.gemm(want, padded[:, : a.shape[1]], b, ta, False, orientation="as_given")
        _core.gemm(got, a, b, ta, False, orientation="as_given")
    np.testing.assert_array_equal(got, want)
    rows = slice(0, 64)  # a float64 product of the whole is slow; 64 rows of the result check the values
    close(got[rows], ref_matmul(a[:, rows] if ta else a[rows], b, ta, False), np.float32, K)


def test_column_slices_must_keep_rows_contiguous(rng):
    a = rng.standard_normal((6, 8))
    with pytest.raises(ValueError, match="a: rows must be contiguous"):
        F.matmul(a[:, ::2], np.zeros((4, 2)))
    with pytest.raises(ValueError, match="c: rows must be contiguous"):
        _core.gemm(np.zeros((6, 4))[:, ::2], a, np.zeros((8, 2)))


def test_microkernel_peak_runs_on_every_isa(isa):
    # It used to hand 16-byte-aligned vectors to aligned AVX-512 loads and crash.
    assert _core.ukernel_peak_gflops() > 0


# ---- cache sizes and the blocks cut from them ---------------------------------------------------------------

def test_cache_sizes_fall_back_when_nothing_is_readable(tmp_path):
    sizes = _core.detect_cache_sizes(str(tmp_path / "missing"), use_sysconf=False)
    assert sizes == {"l1d": 32 * 1024, "l2": 256 * 1024, "l3": 4 * 1024 * 1024, "source": "fallback,fallback,fallback"}


def test_cache_sizes_read_from_a_sysfs_tree(tmp_path):
    entries = [("1", "Data", "48K"), ("1", "Instruction", "32K"), ("2", "Unified", "2048K"), ("3", "Unified", "300M")]
    for i, (level, kind, size) in enumerate(entries):
        d = tmp_path / f"index{i}"
        d.mkdir()
        (d / "level").write_text(level + "\n")
        (d / "type").write_text(kind + "\n")
        (d / "size").write_text(size + "\n")
    sizes = _core.detect_cache_sizes(str(tmp_path), use_sysconf=False)
    assert sizes == {"l1d": 48 * 1024, "l2": 2048 * 1024, "l3": 300 * 1024 * 1024, "source": "sysfs,sysfs,sysfs"}
    # sysfs is read before sysconf, whose L3 was ten times too large on an AMD EPYC VM
    assert _core.detect_cache_sizes(str(tmp_path), use_sysconf=True) == sizes
    # a level sysfs does not list falls back alone
    for name in ("level", "type", "size"):
        (tmp_path / "index3" / name).unlink()
    (tmp_path / "index3").rmdir()
    assert _core.detect_cache_sizes(str(tmp_path), use_sysconf=False)["source"] == "sysfs,sysfs,fallback"


def test_cache_sizes_of_this_machine_are_detected():
    info = _core.build_info()["caches"]
    assert info["l1d"] >= 4096 and info["l2"] >= info["l1d"]
    assert info["source"].split(",")[0] in ("sysconf", "sysfs", "fallback")


@pytest.mark.parametrize("mr,nr,size", [(6, 16, 4), (12, 32, 4), (6, 8, 8), (4, 8, 4)])
@pytest.mark.parametrize("l1,l2", [(32 << 10, 256 << 10), (32 << 10, 512 << 10), (48 << 10, 2 << 20), (1 << 20, 64 << 20)])
def test_gemm_blocks_fit_the_caches(mr, nr, size, l1, l2):
    b = _core.gemm_blocks(mr, nr, size, l1, l2, 32 << 20)
    assert b["kc"] % 16 == 0 and 128 <= b["kc"] <= 512
    assert b["kc"] == 128 or mr * b["kc"] * size <= l1 * 3 // 4  # the A micro-panel fits three quarters of L1
    assert b["mc"] % mr == 0 and b["nc"] % nr == 0
    # the B group fits half of L2, or all of it when that reaches the 16 panels that amortise bringing an A
    # micro-panel into L1
    group = b["kc"] * b["nc"] * size
    assert b["nc"] == 2 * nr or group <= l2 // 2 or (b["nc"] <= 16 * nr and group <= l2)
    assert b["nc"] >= min(16 * nr, l2 // (b["kc"] * size) // nr * nr, 1024)
    assert b["mc"] <= 1024 and b["nc"] <= 1024
    smaller = _core.gemm_blocks(mr, nr, size, l1, l2 // 2, 32 << 20)
    assert smaller["nc"] <= b["nc"] and smaller["mc"] <= b["mc"]


@pytest.mark.parametrize(
    "l1,l2,kc,nc",
    [(32 << 10, 1 << 20, 512, 512), (48 << 10, 2 << 20, 512, 512), (32 << 10, 256 << 10, 512, 128)],
)
def test_gemm_blocks_of_known_cores_for_the_avx512_float_tile(l1, l2, kc, nc):
    # Zen 4 (measured: kc 336 -> 512 with nc 384 -> 512 gave 1024^3 +3% at 1 thread, +6% at 2), Sapphire
    # Rapids (the blocks its tuning chose), and a small L2, which the group fills
    b = _core.gemm_blocks(12, 32, 4, l1, l2, 32 << 20)
    assert (b["kc"], b["nc"]) == (kc, nc)


@pytest.mark.parametrize("path", ["panels", "blocked", "split_k", "dot", "transposed"])
@pytest.mark.parametrize("beta", [0.0, 1.0])
def test_partial_tiles_never_write_outside_c(isa, rng, path, beta):
    # C is the top-left corner of a larger array whose other cells hold a sentinel: the edge tiles (rows
    # past M in the last row panel, columns past N) must leave them alone.
    shape = plan_shape(path, False, True)
    assert shape is not None, f"no test shape reaches {path} with {isa}"
    M, N, K = shape
    a, b = operands(rng, M, N, K, False, True, np.float64)
    full = np.full((M + 7, N + 5), -7.25)
    c = full[:M, :N]
    c[...] = 1.0
    with num_threads(2):
        _core.gemm(c, a, b, False, True, beta=beta, orientation=ORIENTATION[path])
    close(c, beta + ref_matmul(a, b, False, True), np.float64, K)
    assert (full[M:, :] == -7.25).all() and (full[:, N:] == -7.25).all()


def test_the_last_rows_run_on_the_shorter_edge_tile(isa):
    # the rows past the last whole mr panel go to edge_mr-row panels when that computes fewer padded rows
    # (M = 64 on 12-row tiles: 4 x 12 + 2 x 8, not 5 x 12 + 4 padded)
    tile = _core.gemm_plan(1, 1, 1)
    mr, er = tile["mr"], tile["edge_mr"]
    assert 0 < er < mr <= 2 * er
    for M in range(2 * mr, 4 * mr):
        plan = _core.gemm_plan(M, 8 * tile["nr"], 300, orientation="as_given")
        assert plan["strategy"] == "panels"
        full, edges = plan["row_panels"]
        rest = M % mr
        computed = full * mr + edges * er
        assert computed >= M and computed - M < er, (M, full, edges)
        assert computed <= -(-M // mr) * mr, (M, full, edges)  # never more rows than mr panels alone
        if 0 < rest <= er:
            assert edges >= 1, (M, rest)
    want_64 = {(12, 8): (4, 2), (6, 4): (10, 1), (4, 2): (16, 0)}[(mr, er)]  # AVX-512, AVX2, portable
    assert _core.gemm_plan(64, 512, 300, orientation="as_given")["row_panels"] == want_64


@pytest.mark.parametrize("ta,tb", FLAGS)
def test_every_row_remainder_matches_the_naive_twin_either_way_round(isa, rng, ta, tb):
    # each count of rows past the last whole tile, run as mr panels, edge panels (one or two) or padded:
    # the same bits either way round and for any thread count, close to the naive twin
    tile = _core.gemm_plan(1, 1, 1)
    mr, nr = tile["mr"], tile["nr"]
    for M in range(2 * mr, 3 * mr + 1):
        N, K = 3 * nr + 5, 70
        a, b = operands(rng, M, N, K, ta, tb, np.float32)
        want = np.zeros((M, N), np.float32)
        _core.gemm(want, a, b, ta, tb, naive=True)
        runs = []
        for threads in (1, 2):
            for orientation in ("as_given", "transposed"):
                with num_threads(threads):
                    c = np.full((M, N), np.nan, np.float32)
                    _core.gemm(c, a, b, ta, tb, orientation=orientation)
                    runs.append(c)
        close(runs[0], want, np.float32, K)
        for c in runs[1:]:
            np.testing.assert_array_equal(c, runs[0], err_msg=f"M={M}")


@pytest.mark.parametrize("ta,tb", FLAGS)
@pytest.mark.parametrize("split", ["rows", "cols"])
def test_a_split_asked_for_gives_the_same_bits(isa, rng, ta, tb, split):
    # the threads may share out C's rows or columns as the caller asks (a Linear layer keeps each thread on
    # its share of the weight's rows): every element is the same sum either way, tiles at every edge included
    tile = _core.gemm_plan(1, 1, 1)
    mr, nr = tile["mr"], tile["nr"]
    rows_shared = 0
    for M, N, K in ((5 * mr + 3, 2 * nr + 5, 90), (2 * mr, nr - 3, 40), (64, 256, 300), (3, 4 * nr, 50)):
        a, b = operands(rng, M, N, K, ta, tb, np.float32)
        c0 = rng.standard_normal((M, N)).astype(np.float32)
        want = c0.copy()
        _core.gemm(want, a, b, ta, tb, 0.5, 1.0, naive=True)
        runs = []
        for threads in (1, 2):
            for orientation in ("auto", "as_given", "transposed"):
                for asked in ("auto", split):
                    with num_threads(threads):
                        c = c0.copy()
                        _core.gemm(c, a, b, ta, tb, 0.5, 1.0, orientation=orientation, split=asked)
                        runs.append(c)
                        rows_shared += _core.gemm_plan(M, N, K, ta, tb, "float32", orientation, asked)["split_rows"]
        close(runs[0], want, np.float32, K)
        for c in runs[1:]:
            np.testing.assert_array_equal(c, runs[0], err_msg=f"{(M, N, K)}")
    assert rows_shared > 0  # the threads did share out rows somewhere


def test_the_split_follows_the_dimension_asked_for_whichever_way_round():
    # rows of C as given are the rows of the product as computed, or its columns when it is turned
    with num_threads(2):
        for orientation, split, rows in (("as_given", "rows", True), ("as_given", "cols", False),
                                         ("transposed", "cols", True), ("transposed", "rows", False)):
            plan = _core.gemm_plan(256, 784, 300, orientation=orientation, split=split)
            assert plan["strategy"] == "panels" and plan["split_rows"] == rows, (orientation, split)
        assert not _core.gemm_plan(256, 784, 300, orientation="as_given")["split_rows"]  # auto: columns
        # a Linear layer's forward (x.W^T: W's rows are C's columns) and weight gradient (C's rows), whichever
        # way round GEMM computes them
        forward = _core.gemm_plan(64, 256, 784, False, True, split="cols")
        assert forward["split_rows"] == forward["transposed"]
        weight_gradient = _core.gemm_plan(256, 784, 64, True, False, split="rows")
        assert weight_gradient["split_rows"] == (not weight_gradient["transposed"])
    with num_threads(1):
        assert not _core.gemm_plan(256, 784, 300, orientation="as_given", split="rows")["split_rows"]


def test_split_must_be_named(rng):
    a = np.ones((4, 4), np.float32)
    with pytest.raises(ValueError, match="split: expected 'auto', 'rows' or 'cols', got 'diagonal'"):
        _core.gemm(np.zeros((4, 4), np.float32), a, a, split="diagonal")


def test_small_products_run_on_one_thread_and_short_dot_products_by_panels():
    # a fork and join costs what about 0.5M multiply-adds take, and lane sums do not pay for a short K
    tile = _core.gemm_plan(1, 1, 1)
    mr, nr = tile["mr"], tile["nr"]
    with num_threads(2):
        # few column panels: blocked (both threads) only when the product is worth two threads
        assert _core.gemm_plan(100 * mr, nr - 3, 600, orientation="as_given")["strategy"] == "blocked"
        assert _core.gemm_plan(100 * mr, nr - 3, 8, orientation="as_given")["strategy"] == "panels"
    # C = A B^T of a few tiles: dot products for a long K or a result under a quarter tile, else panels
    assert _core.gemm_plan(2 * mr, nr - 1, 300, False, True)["strategy"] == "dot"
    assert _core.gemm_plan(2 * mr, nr - 1, 128, False, True)["strategy"] == "panels"
    assert _core.gemm_plan(2, 3, 128, False, True)["strategy"] == "dot"
