"""Wall-clock timing that survives a noisy machine: the best of several repeats of a loop long enough
to dwarf the clock's resolution."""

import time


def best_seconds(fn, repeats=7, min_seconds=0.05):
    """Seconds per call of fn: the minimum over `repeats` runs of enough calls to take min_seconds."""
    fn()  # warm caches, thread pools and lazily allocated scratch
    calls = 1
    while True:
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            break
        calls *= 2
    best = elapsed / calls
    for _ in range(repeats - 1):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        best = min(best, (time.perf_counter() - start) / calls)
    return best


def interleaved_best_seconds(fns, rounds=3):
    """{key: best seconds per call} over `rounds` passes that each time every fn in turn (A, B, C, A, B, C, ...),
    so that a burst of load on a shared machine, or a peer's threads still spinning after its call, hits every
    candidate alike rather than whichever was timed then."""
    best = {key: float("inf") for key in fns}
    for _ in range(rounds):
        for key, fn in fns.items():
            best[key] = min(best[key], best_seconds(fn, repeats=3))
    return best
