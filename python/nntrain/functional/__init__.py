"""Stateless ops over NumPy arrays, named after ``torch.nn.functional``, each with its backward.

Every op takes C-contiguous float32 or float64 arrays (float64 is what gradient checks use) and uses
them in place, without copies. Anything else -- another dtype, a non-contiguous view, shapes that do not
fit -- raises ``ValueError`` naming the argument and the shapes.

Backward functions follow one rule. They return the gradients of the op's inputs, in the order of the
op's arguments (a single array for a single input). Each gradient may be passed in as a keyword
(``dweight=layer.weight.grad``): it is then accumulated into (``+=``) and returned; pass ``False`` to skip
computing it (its slot returns ``None``); left as ``None`` it is a new array.
"""

from .activation import (elu, elu_backward, gelu, gelu_backward, leaky_relu, leaky_relu_backward, log_softmax,
                         log_softmax_backward, relu, relu_backward, sigmoid, sigmoid_backward, softmax,
                         softmax_backward, tanh, tanh_backward)
from .conv import col2im, conv1d, conv2d, conv2d_backward, im2col
from .dropout import dropout, dropout_backward
from .elementwise_loss import (binary_cross_entropy_with_logits, l1_loss, mse_loss, mse_loss_backward,
                               smooth_l1_loss)
from .embedding import embedding
from .linear import linear, linear_backward, matmul
from .loss import cross_entropy, cross_entropy_backward, nll_loss
from .norm import (batch_norm, batch_norm_backward, batch_norm_relu_max_pool2d,
                   batch_norm_relu_max_pool2d_backward, layer_norm, layer_norm_backward)
from .optim import (adagrad_update, adam_update, array_norms, clip_grad_norm, grad_norm, rmsprop_update,
                    sgd_update)
from .pad import pad
from .recurrent import lstm_cell
from .pool import (adaptive_avg_pool2d, avg_pool1d, avg_pool2d, avg_pool2d_backward, max_pool1d, max_pool2d,
                   max_pool2d_backward)

__all__ = [
    "matmul", "linear", "linear_backward", "embedding",
    "conv1d", "conv2d", "conv2d_backward", "im2col", "col2im", "pad",
    "max_pool1d", "max_pool2d", "max_pool2d_backward", "avg_pool1d", "avg_pool2d", "avg_pool2d_backward",
    "adaptive_avg_pool2d",
    "relu", "relu_backward", "leaky_relu", "leaky_relu_backward", "elu", "elu_backward",
    "sigmoid", "sigmoid_backward", "tanh", "tanh_backward", "gelu", "gelu_backward",
    "softmax", "softmax_backward", "log_softmax", "log_softmax_backward",
    "cross_entropy", "cross_entropy_backward", "nll_loss", "mse_loss", "mse_loss_backward", "l1_loss",
    "smooth_l1_loss", "binary_cross_entropy_with_logits",
    "batch_norm", "batch_norm_backward", "batch_norm_relu_max_pool2d",
    "batch_norm_relu_max_pool2d_backward", "layer_norm", "layer_norm_backward", "lstm_cell",
    "dropout", "dropout_backward",
    "sgd_update", "adagrad_update", "rmsprop_update", "adam_update", "grad_norm", "array_norms", "clip_grad_norm",
]
