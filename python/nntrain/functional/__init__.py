"""Stateless ops over NumPy arrays, named after ``torch.nn.functional``, each with its backward.

Every op takes C-contiguous float32 or float64 arrays (float64 is what gradient checks use) and uses
them in place, without copies. Anything else -- another dtype, a non-contiguous view, shapes that do not
fit -- raises ``ValueError`` naming the argument and the shapes.

Backward functions follow one rule. They return the gradients of the op's inputs, in the order of the
op's arguments. Each gradient may be passed in as a keyword (``dweight=layer.weight.grad``): it is then
accumulated into (``+=``) and returned; pass ``False`` to skip computing it (its slot returns ``None``);
left as ``None`` it is a new array.
"""

from .linear import linear, linear_backward, matmul
from .optim import (adagrad_update, adam_update, array_norms, clip_grad_norm, grad_norm, rmsprop_update,
                    sgd_update)

__all__ = ["linear", "linear_backward", "matmul",
           "sgd_update", "adagrad_update", "rmsprop_update", "adam_update", "grad_norm", "array_norms",
           "clip_grad_norm"]
