"""NumPy oracles for the activations and softmax (float64 math, cast back)."""

import math

import numpy as np

_erf = np.vectorize(math.erf, otypes=[np.float64])


def forward(kind, x, param=0.0):
    v = x.astype(np.float64)
    if kind == "relu":
        y = np.maximum(v, 0)
    elif kind == "leaky_relu":
        y = np.where(v > 0, v, param * v)
    elif kind == "elu":
        y = np.where(v > 0, v, param * np.expm1(np.minimum(v, 0)))
    elif kind == "sigmoid":
        y = 1 / (1 + np.exp(-v))
    elif kind == "tanh":
        y = np.tanh(v)
    elif kind == "gelu":
        y = 0.5 * v * (1 + _erf(v / math.sqrt(2)))
    elif kind == "gelu_tanh":
        y = 0.5 * v * (1 + np.tanh(math.sqrt(2 / math.pi) * (v + 0.044715 * v**3)))
    else:
        raise KeyError(kind)
    return y.astype(x.dtype)


def derivative(kind, x, param=0.0):
    v = x.astype(np.float64)
    if kind == "relu":
        d = (v > 0).astype(np.float64)
    elif kind == "leaky_relu":
        d = np.where(v > 0, 1.0, param)
    elif kind == "elu":
        d = np.where(v > 0, 1.0, param * np.exp(np.minimum(v, 0)))
    elif kind == "sigmoid":
        s = 1 / (1 + np.exp(-v))
        d = s * (1 - s)
    elif kind == "tanh":
        d = 1 - np.tanh(v) ** 2
    elif kind == "gelu":
        d = 0.5 * (1 + _erf(v / math.sqrt(2))) + v * np.exp(-0.5 * v * v) / math.sqrt(2 * math.pi)
    elif kind == "gelu_tanh":
        k = math.sqrt(2 / math.pi)
        t = np.tanh(k * (v + 0.044715 * v**3))
        d = 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * k * (1 + 3 * 0.044715 * v * v)
    else:
        raise KeyError(kind)
    return d


def softmax(x, temperature=1.0):
    z = x.astype(np.float64) / temperature
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return (e / e.sum(axis=-1, keepdims=True)).astype(x.dtype)


def log_softmax(x, temperature=1.0):
    z = x.astype(np.float64) / temperature
    z = z - z.max(axis=-1, keepdims=True)
    return (z - np.log(np.exp(z).sum(axis=-1, keepdims=True))).astype(x.dtype)
