"""NumPy oracle for batch normalisation (float64 math)."""

import numpy as np


def batch_norm(x, running_mean, running_var, weight, bias, training, momentum, eps):
    axes = (0,) if x.ndim == 2 else (0, 2, 3)
    shape = (1, -1) if x.ndim == 2 else (1, -1, 1, 1)
    v = x.astype(np.float64)
    if training:
        mean, var = v.mean(axis=axes), v.var(axis=axes)
        m = v.size // v.shape[1]
        if running_mean is not None:
            running_mean[...] = (1 - momentum) * running_mean + momentum * mean
            running_var[...] = (1 - momentum) * running_var + momentum * var * m / (m - 1)
    else:
        mean, var = running_mean.astype(np.float64), running_var.astype(np.float64)
    y = (v - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps)
    if weight is not None:
        y = y * weight.reshape(shape) + bias.reshape(shape)
    return y.astype(x.dtype)


def layer_norm(x, normalized_ndim, weight=None, bias=None, eps=1e-5):
    axes = tuple(range(x.ndim - normalized_ndim, x.ndim))
    v = x.astype(np.float64)
    y = (v - v.mean(axis=axes, keepdims=True)) / np.sqrt(v.var(axis=axes, keepdims=True) + eps)
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y
