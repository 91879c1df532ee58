"""A large product's way round, settled by timing its first calls (cpp/gemm_tuning.h)."""

import numpy as np
import pytest

from nntrain import _core

from conftest import num_threads

THRESHOLD = 1 << 25  # kTunedMinMultiplyAdds


@pytest.fixture(autouse=True)
def untuned():
    _core.gemm_tuning_clear()
    yield
    _core.gemm_tuning_clear()


def records():
    return _core.gemm_tuning()


def test_a_large_product_runs_both_ways_with_the_same_bits_then_settles_and_is_not_timed_again(isa, rng):
    M, N, K = 64, 2048, 256  # 2^25 multiply-adds: the smallest product timed
    a = rng.standard_normal((M, K)).astype(np.float32)
    b = rng.standard_normal((K, N)).astype(np.float32)
    with num_threads(2):
        model = _core.gemm_plan(M, N, K)["transposed"]
        runs = []
        for _ in range(_core.GEMM_TUNING_CALLS):
            assert all(r["settled"] is None for r in records())
            c = np.empty((M, N), np.float32)
            _core.gemm(c, a, b)
            runs.append(c)
        for c in runs[1:]:
            np.testing.assert_array_equal(c, runs[0])
        [rec] = records()
        assert rec["shape"] == (M, N, K) and rec["trans"] == (False, False) and rec["threads"] == 2
        assert rec["dtype"] == "float32" and rec["isa"] == isa
        assert rec["model"] == ("transposed" if model else "as_given")
        given, turned = rec["best_seconds"]
        assert given > 0 and turned > 0  # both ways ran, timed
        assert rec["settled"] in ("as_given", "transposed")
        assert _core.gemm_plan(M, N, K)["transposed"] == (rec["settled"] == "transposed")
        c = np.empty((M, N), np.float32)
        _core.gemm(c, a, b)  # settled: no more timing
        np.testing.assert_array_equal(c, runs[0])
        assert records()[0]["best_seconds"] == (given, turned)


@pytest.mark.parametrize("model_calls,other_calls,settles_on_other", [
    ((1.0, 1.2, 1.1), (0.9, 0.96, 0.95), True),  # every call the other way 4% or more faster than the model's best
    ((1.0, 1.2, 1.1), (0.9, 0.98, 0.95), False),  # one of them only 2% faster
    ((1.0, 3.0, 1.0), (0.5, 1.5, 0.9), False),  # a burst of load on one call each way: the rule's way stays
    ((1.0, 1.0, 1.0), (1.0, 1.0, 1.0), False),  # a tie
])
def test_every_call_the_other_way_must_beat_the_rules_way_by_3_percent_to_replace_it(
        rng, model_calls, other_calls, settles_on_other):
    M, N, K = 64, 2048, 256
    a = rng.standard_normal((M, K)).astype(np.float32)
    b = rng.standard_normal((K, N)).astype(np.float32)
    with num_threads(2):
        _core.gemm(np.empty((M, N), np.float32), a, b)  # the untimed first call opens the trials
        model = _core.gemm_plan(M, N, K)["transposed"]
        for mine, other in zip(model_calls, other_calls):
            _core._gemm_tuning_record(M, N, K, False, False, model, mine)
            _core._gemm_tuning_record(M, N, K, False, False, not model, other)
        [rec] = records()
        way = (not model) if settles_on_other else model
        assert rec["settled"] == ("transposed" if way else "as_given")
        assert _core.gemm_plan(M, N, K)["transposed"] == way


def test_small_products_forced_ways_and_callers_splits_are_not_timed(rng):
    a = rng.standard_normal((64, 255)).astype(np.float32)
    b = rng.standard_normal((255, 2048)).astype(np.float32)
    assert 64 * 2048 * 255 < THRESHOLD
    c = np.empty((64, 2048), np.float32)
    for _ in range(3):
        _core.gemm(c, a, b)
    big_a = rng.standard_normal((64, 256)).astype(np.float32)
    big_b = rng.standard_normal((256, 2048)).astype(np.float32)
    for _ in range(3):
        _core.gemm(c, big_a, big_b, orientation="as_given")
        _core.gemm(c, big_a, big_b, orientation="transposed")
        _core.gemm(c, big_a, big_b, split="rows")
    assert records() == []


def test_each_thread_count_and_dtype_is_timed_apart(rng):
    for dtype in (np.float32, np.float64):
        a = rng.standard_normal((64, 256)).astype(dtype)
        b = rng.standard_normal((256, 2048)).astype(dtype)
        c = np.empty((64, 2048), dtype)
        for threads in (1, 2):
            with num_threads(threads):
                _core.gemm(c, a, b)
    assert sorted((r["threads"], r["dtype"]) for r in records()) == \
        [(1, "float32"), (1, "float64"), (2, "float32"), (2, "float64")]
    _core.gemm_tuning_clear()
    assert records() == []
