"""Initialisers, in place on a Parameter (or array), named like ``torch.nn.init``.

Fixed: ``zeros_``, ``constant_``. Random: ``uniform_``, ``normal_``. Scaled to keep activations' variance
steady through depth: ``xavier_uniform_``/``xavier_normal_`` (Glorot, for tanh/sigmoid) and
``kaiming_uniform_``/``kaiming_normal_`` (He/MSRA, for ReLU). Every random draw comes from the
``numpy.random.Generator`` passed as ``rng``, so one seeded generator fixes a whole run.
``initialize(model, scheme, rng)`` applies a scheme to every layer of a model.
"""

import math

import numpy as np


def _array(p):
    return p.data if hasattr(p, "data") and isinstance(p.data, np.ndarray) else p


def _rng(rng):
    if rng is None:
        return np.random.default_rng()
    if isinstance(rng, np.random.Generator):
        return rng
    raise TypeError(f"rng: expected a numpy.random.Generator, got {type(rng).__name__}")


def _fill(p, values):
    a = _array(p)
    a[...] = values.astype(a.dtype, copy=False)
    return p


def fan_in_and_fan_out(shape):
    """(fan_in, fan_out) of a weight: Linear (out, in) -> (in, out); Conv (oc, ic, kh, kw) -> (ic*kh*kw, oc*kh*kw)."""
    if len(shape) < 2:
        raise ValueError(f"fan in and fan out need a weight with at least 2 dimensions, got shape {tuple(shape)}")
    receptive = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    return shape[1] * receptive, shape[0] * receptive


def calculate_gain(nonlinearity, param=None):
    """The recommended gain for a nonlinearity (PyTorch's table)."""
    linear_like = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose2d", "sigmoid")
    if nonlinearity in linear_like:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else float(param)
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unknown nonlinearity '{nonlinearity}'")


def zeros_(p):
    _array(p).fill(0)
    return p


def constant_(p, value):
    _array(p).fill(value)
    return p


def uniform_(p, a=0.0, b=1.0, rng=None):
    return _fill(p, _rng(rng).uniform(a, b, size=_array(p).shape))


def normal_(p, mean=0.0, std=1.0, rng=None):
    return _fill(p, _rng(rng).normal(mean, std, size=_array(p).shape))


def xavier_uniform_(p, gain=1.0, rng=None):
    fan_in, fan_out = fan_in_and_fan_out(_array(p).shape)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(p, -bound, bound, rng)


def xavier_normal_(p, gain=1.0, rng=None):
    fan_in, fan_out = fan_in_and_fan_out(_array(p).shape)
    return normal_(p, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), rng)


def _kaiming_std(shape, a, mode, nonlinearity):
    fan_in, fan_out = fan_in_and_fan_out(shape)
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"kaiming: mode must be 'fan_in' or 'fan_out', got '{mode}'")
    fan = fan_in if mode == "fan_in" else fan_out
    return calculate_gain(nonlinearity, a) / math.sqrt(max(fan, 1))


def kaiming_uniform_(p, a=0.0, mode="fan_in", nonlinearity="leaky_relu", rng=None):
    bound = math.sqrt(3.0) * _kaiming_std(_array(p).shape, a, mode, nonlinearity)
    return uniform_(p, -bound, bound, rng)


def kaiming_normal_(p, a=0.0, mode="fan_in", nonlinearity="leaky_relu", rng=None):
    return normal_(p, 0.0, _kaiming_std(_array(p).shape, a, mode, nonlinearity), rng)


def default_init_(weight, bias, rng=None):
    """PyTorch's default for Linear and Conv2d: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and bias."""
    rng = _rng(rng)
    kaiming_uniform_(weight, a=math.sqrt(5), rng=rng)
    if bias is not None:
        fan_in, _ = fan_in_and_fan_out(_array(weight).shape)
        bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
        uniform_(bias, -bound, bound, rng)


SCHEMES = ("default", "xavier", "xavier_normal", "he", "he_normal", "normal", "uniform", "zeros", "constant")


def initialize(model, scheme="default", rng=None, value=0.0, std=0.01):
    """Re-initialises every layer of ``model`` with one scheme, drawing from ``rng``.

    default: each layer's own ``reset_parameters`` (PyTorch's defaults). The others set every weight
    matrix or kernel (a parameter of 2 or more dimensions): xavier / xavier_normal (Glorot), he / he_normal
    (Kaiming, ReLU gain), normal (N(0, std)), uniform (U(-std, std)), zeros, constant (``value``); biases
    start at zero, and layers without such weights (BatchNorm, LayerNorm) are reset to their defaults. Layers
    that draw random numbers while training (Dropout) take a generator seeded from ``rng``, so one seed fixes
    a whole run even for a network whose layers were built without one.
    """
    if scheme not in SCHEMES:
        raise ValueError(f"initialize: unknown scheme '{scheme}' (choose from {', '.join(SCHEMES)})")
    rng = _rng(rng)
    for m in model.modules():
        own = [(name, p) for name, p in m._parameters.items() if p is not None]
        if scheme == "default" or not any(p.data.ndim >= 2 for _, p in own):
            reset = getattr(m, "reset_parameters", None)
            if reset is not None:
                reset(rng)
            continue
        for name, p in own:
            if p.data.ndim >= 2:
                _SCHEME_INIT[scheme](p, rng, value, std)
            elif name.startswith("bias"):
                zeros_(p)
    return model


_SCHEME_INIT = {
    "xavier": lambda p, rng, value, std: xavier_uniform_(p, rng=rng),
    "xavier_normal": lambda p, rng, value, std: xavier_normal_(p, rng=rng),
    "he": lambda p, rng, value, std: kaiming_uniform_(p, nonlinearity="relu", rng=rng),
    "he_normal": lambda p, rng, value, std: kaiming_normal_(p, nonlinearity="relu", rng=rng),
    "normal": lambda p, rng, value, std: normal_(p, 0.0, std, rng),
    "uniform": lambda p, rng, value, std: uniform_(p, -std, std, rng),
    "zeros": lambda p, rng, value, std: zeros_(p),
    "constant": lambda p, rng, value, std: constant_(p, value),
}


def from_pretrained(model, path, strict=True):
    """Initialises ``model`` from a weights file (safetensors with PyTorch-style keys), e.g. one saved by
    ``nntrain train`` or by PyTorch; every key and shape is checked first."""
    import os

    from ..checkpoint import CheckpointError, load_weights

    try:
        return model.load_state_dict(load_weights(path), strict=strict)
    except CheckpointError:
        raise
    except ValueError as e:  # names and shapes that do not fit this model
        raise CheckpointError(f"{os.fspath(path)}: does not fit this model: {e}") from None
