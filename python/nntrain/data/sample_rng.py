"""One random generator per example: what random transforms draw from.

DataLoader marks the example it is fetching with the key (seed, epoch, index); ``sample_rng()`` returns a
generator seeded by that key. An example's augmentation then depends on nothing else — not on which
worker fetched it, nor on what was fetched before — so a run is the same with any number of workers and
resumes exactly mid-epoch. Outside a DataLoader, ``sample_rng()`` falls back to one generator per thread,
seeded once (``manual_seed`` reseeds it).
"""

import threading

import numpy as np

_local = threading.local()  # worker threads fetch different examples at once: one key each
_DEFAULT_SEED = 0


def set_sample_key(key):
    """Marks the example being fetched in this thread: (seed, epoch, index), or None when done."""
    _local.key = key
    _local.rng = None


def sample_rng() -> np.random.Generator:
    """The generator of the example being fetched (made on first use: most transforms draw nothing)."""
    key = getattr(_local, "key", None)
    if key is None:
        fallback = getattr(_local, "fallback", None)
        if fallback is None:
            fallback = _local.fallback = np.random.default_rng(_DEFAULT_SEED)
        return fallback
    rng = _local.rng
    if rng is None:
        rng = _local.rng = np.random.default_rng(key)
    return rng


def manual_seed(seed):
    """Reseeds this thread's generator for transforms used outside a DataLoader."""
    _local.fallback = np.random.default_rng(seed)
