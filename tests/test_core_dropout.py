"""Dropout: the mask rate and scale, backward through the same mask, seed and thread independence."""

import numpy as np
import pytest

from nntrain import functional as F

from conftest import num_threads

# Every test runs once per instruction set the CPU offers: the masks are drawn by the elementwise kernels.
pytestmark = pytest.mark.usefixtures("isa")


def splitmix_keep(n, p, seed):
    """The mask of counter_rng.h in NumPy's wrapping uint64 arithmetic: element i kept when the 24-bit draw
    of (seed, i) is >= round(p 2^24)."""
    with np.errstate(over="ignore"):
        z = np.uint64(seed) + (np.arange(n, dtype=np.uint64) + np.uint64(1)) * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(40)) >= np.uint64(round(p * 2**24))


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_drops_the_expected_fraction_and_scales_the_rest(p):
    x = np.ones(200_000, np.float32)
    y = F.dropout(x, p, seed=7)
    kept = y != 0
    # 200k Bernoulli draws: the kept fraction is within 5 standard deviations of 1 - p.
    assert abs(kept.mean() - (1 - p)) < 5 * np.sqrt(p * (1 - p) / x.size)
    np.testing.assert_allclose(y[kept], 1 / (1 - p), rtol=1e-6)


def test_backward_uses_the_same_mask(rng):
    x = rng.standard_normal((64, 100)).astype(np.float32)
    y = F.dropout(x, 0.3, seed=123)
    g = rng.standard_normal(x.shape).astype(np.float32)
    dx = F.dropout_backward(g, 0.3, seed=123)
    np.testing.assert_array_equal(dx != 0, y != 0)
    np.testing.assert_allclose(dx[y != 0], g[y != 0] / 0.7, rtol=1e-6)


def test_backward_writes_a_new_gradient_and_adds_into_a_given_one(rng):
    # No dx: the kernel writes a new array (no zero-fill pass), whatever memory it reuses: the NaN-filled
    # array just freed is what the allocator hands out next, so a kernel that added to it would give NaN.
    g = rng.standard_normal(100_000).astype(np.float32)
    want = F.dropout(g, 0.3, seed=11)  # the same mask and scale
    for _ in range(3):
        poison = np.full_like(g, np.nan)
        del poison
        np.testing.assert_array_equal(F.dropout_backward(g, 0.3, 11), want)
    acc = np.ones_like(g)
    assert F.dropout_backward(g, 0.3, 11, dx=acc) is acc
    np.testing.assert_array_equal(acc, 1 + want)
    assert F.dropout_backward(g, 0.3, 11, dx=False) is None


def test_the_mask_is_splitmix64_of_seed_and_index_on_every_isa(rng):
    # Runs of 16384 go to the kernels: 70001 elements end in a partial run, each run starting its counter
    # where the last stopped.
    x = rng.standard_normal(70001).astype(np.float32) + 10  # no zeros of its own
    y = F.dropout(x, 0.3, seed=2**40 + 17)
    np.testing.assert_array_equal(y != 0, splitmix_keep(x.size, 0.3, 2**40 + 17))
    np.testing.assert_array_equal(F.dropout_backward(x, 0.3, 2**40 + 17), y)


def test_seeds_give_reproducible_and_distinct_masks(rng):
    x = np.ones(10_000)
    assert np.array_equal(F.dropout(x, 0.5, seed=1), F.dropout(x, 0.5, seed=1))
    assert not np.array_equal(F.dropout(x, 0.5, seed=1), F.dropout(x, 0.5, seed=2))
    # float32 and float64 draw the same mask from a seed
    assert np.array_equal(F.dropout(x, 0.5, seed=3) != 0, F.dropout(x.astype(np.float32), 0.5, seed=3) != 0)


def test_edge_probabilities_and_eval_mode(rng):
    x = rng.standard_normal(1000)
    np.testing.assert_array_equal(F.dropout(x, 0.0, seed=1), x)
    np.testing.assert_array_equal(F.dropout(x, 1.0, seed=1), np.zeros_like(x))
    assert F.dropout(x, 0.5, seed=1, training=False) is x
    with pytest.raises(ValueError, match=r"p: dropout probability must be in \[0, 1\], got 1.5"):
        F.dropout(x, 1.5, seed=1)


def test_mask_does_not_depend_on_thread_count(rng):
    x = rng.standard_normal((256, 1024)).astype(np.float32)
    runs = []
    for n in (1, 2):
        with num_threads(n):
            runs.append((F.dropout(x, 0.5, seed=99), F.dropout_backward(x, 0.5, seed=99)))
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)
