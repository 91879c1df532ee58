"""Reverse-mode automatic differentiation over the kernels: Function (an op's forward/backward pair),
the record of each call (Context), the engine that runs them backwards, and the grad-mode switches."""

from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled


def __getattr__(name):
    # function.py imports Tensor, which imports this package: load it on first use, not here.
    if name in ("Function", "Context"):
        from . import function

        return getattr(function, name)
    if name == "backward":
        from .engine import backward

        return backward
    raise AttributeError(f"module 'nntrain.autograd' has no attribute '{name}'")


__all__ = ["Context", "Function", "backward", "enable_grad", "is_grad_enabled", "no_grad", "set_grad_enabled"]
