"""Gradient clipping by global norm: the cure for exploding gradients."""

from .. import functional as F


def clip_grad_norm_(parameters, max_norm):
    """Scales all gradients by max_norm / (total_norm + 1e-6) when the global L2 norm exceeds max_norm.

    Returns the norm before clipping (NaN or Inf if a gradient is non-finite), like PyTorch.
    """
    if not max_norm > 0:
        raise ValueError(f"max_norm must be > 0, got {max_norm}")
    return F.clip_grad_norm([p.grad for p in parameters if p.grad is not None], float(max_norm))


def grad_norm(parameters):
    """Global L2 norm of the gradients."""
    return F.grad_norm([p.grad for p in parameters if p.grad is not None])
