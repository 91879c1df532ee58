"""Optimiser steps over lists of arrays, in place, and gradient norms: one fused C++ call each.

The rules are PyTorch 2.x's (``torch.optim.SGD``, ``Adagrad``, ``RMSprop``, ``Adam``, ``AdamW`` and
``torch.nn.utils.clip_grad_norm_``), evaluated in the same order, so results agree with PyTorch to
rounding. ``params[i]``, ``grads[i]`` and every state array ``i`` share one shape; all arrays of a call
are C-contiguous and of one dtype (float32 or float64); parameters and state are updated in place and
must be separate, writeable buffers. ``g`` below is ``grads[i]``, ``p`` is ``params[i]``, ``wd`` the
weight decay. Hyper-parameters are checked, and the ``ValueError`` names the one at fault.

Each update takes ``if_finite``: True makes it return the gradients' norm (``grad_norm(grads)``, bit for
bit), taken in the update's own parallel pass, and update only when that norm is finite, so a NaN or Inf
gradient leaves every parameter and state array as it was. Otherwise it returns None.
"""

from .. import _core


def sgd_update(params, grads, momentum_buffers, *, lr, momentum=0.0, dampening=0.0, weight_decay=0.0,
               nesterov=False, first_step=False, if_finite=False):
    """SGD with optional momentum (heavy ball or Nesterov):

    ``g += wd*p``; with momentum, ``buf = g`` on the first step, else ``buf = momentum*buf + (1-dampening)*g``,
    and ``g = g + momentum*buf`` (nesterov) or ``g = buf``; then ``p -= lr*g``.
    ``momentum_buffers`` is only used (and required) when ``momentum > 0``; pass None otherwise.
    """
    return _core.sgd_update(params, grads, momentum_buffers, lr, momentum, dampening, weight_decay, nesterov,
                            first_step, if_finite)


def adagrad_update(params, grads, state_sums, *, lr, lr_decay, weight_decay, eps, step, if_finite=False):
    """Adagrad step number ``step`` (1, 2, ...):

    ``clr = lr / (1 + (step-1)*lr_decay)``; ``g += wd*p``; ``sum += g*g``; ``p -= clr * g / (sqrt(sum) + eps)``.
    """
    return _core.adagrad_update(params, grads, state_sums, lr, lr_decay, weight_decay, eps, step, if_finite)


def rmsprop_update(params, grads, square_avgs, momentum_buffers, grad_avgs, *, lr, alpha, eps, weight_decay,
                   momentum, centered, if_finite=False):
    """RMSprop: ``g += wd*p``; ``sq = alpha*sq + (1-alpha)*g*g``; ``avg = sqrt(sq) + eps``, or when centered
    ``gavg = alpha*gavg + (1-alpha)*g`` and ``avg = sqrt(sq - gavg*gavg) + eps``; then with momentum
    ``buf = momentum*buf + g/avg`` and ``p -= lr*buf``, otherwise ``p -= lr*g/avg``.

    ``momentum_buffers`` is used (and required) only when ``momentum > 0``, ``grad_avgs`` only when centered;
    pass None otherwise. All state starts at zero.
    """
    return _core.rmsprop_update(params, grads, square_avgs, momentum_buffers, grad_avgs, lr, alpha, eps,
                                weight_decay, momentum, centered, if_finite)


def adam_update(params, grads, exp_avgs, exp_avg_sqs, *, lr, beta1, beta2, eps, weight_decay, step, decoupled=False,
                if_finite=False):
    """Adam (AdamW when ``decoupled``) step number ``step`` (1, 2, ...):

    Adam ``g += wd*p``, AdamW ``p *= 1 - lr*wd``; ``m = beta1*m + (1-beta1)*g``; ``v = beta2*v + (1-beta2)*g*g``;
    ``p -= lr * (m / (1-beta1**step)) / (sqrt(v / (1-beta2**step)) + eps)``.
    """
    return _core.adam_update(params, grads, exp_avgs, exp_avg_sqs, lr, beta1, beta2, eps, weight_decay, step,
                             decoupled, if_finite)


def grad_norm(arrays):
    """``sqrt(sum of squares of every element of every array)``, summed in float64 (0.0 for an empty list).

    A NaN or Inf element gives a NaN or Inf norm. The result does not depend on the thread count.
    """
    return _core.grad_norm(arrays)


def array_norms(arrays):
    """The L2 norm of each array, as a list of floats (per-layer gradient or weight norms)."""
    return _core.array_norms(arrays)


def clip_grad_norm(grads, max_norm):
    """Clips the global norm: with ``total = grad_norm(grads)`` and ``coef = max_norm / (total + 1e-6)``,
    scales every gradient in place by ``coef`` when ``coef < 1``. Returns ``total``, the norm BEFORE clipping
    (NaN or Inf when a gradient is non-finite; the gradients are then left as they are if it is NaN).
    """
    return _core.clip_grad_norm(grads, max_norm)
