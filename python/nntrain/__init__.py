"""nntrain: train small neural networks fast on a CPU.

OpenMP C++ kernels (``nntrain._core``) under a PyTorch-like Python API: ``nntrain.functional`` holds the
stateless ops and their backward functions.
"""

__version__ = "0.1.0"

from . import _core, functional

__all__ = ["__version__", "build_info", "functional", "get_num_threads", "set_num_threads"]


def build_info() -> dict:
    """How the compiled core was built and what it runs with.

    Keys: ``version``, ``compiler``, ``openmp`` (False: built without OpenMP, single-threaded),
    ``threads``, ``isa`` (the SIMD kernels in use: ``avx512``, ``avx2`` or ``ref``), ``isa_supported``
    (the best this CPU runs), ``isa_note`` (why ``NNTRAIN_ISA`` was not honoured, or empty) and
    ``flush_denormals`` (the compute threads flush denormals to zero).
    """
    info = {"version": __version__}
    info.update(_core.build_info())
    return info


def get_num_threads() -> int:
    """Number of threads the kernels use (initially ``OMP_NUM_THREADS``, else the core count)."""
    return _core.get_num_threads()


def set_num_threads(n: int) -> None:
    """Set the number of threads the kernels use; ``n`` must be at least 1."""
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"set_num_threads: expected an int, got {type(n).__name__}")
    _core.set_num_threads(n)
