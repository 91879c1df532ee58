"""NumPy oracles for the losses."""

import numpy as np

from .activation import log_softmax


def cross_entropy(logits, target, label_smoothing=0.0):
    logp = log_softmax(logits.astype(np.float64))
    n, c = logits.shape
    t = np.eye(c)[target] if np.asarray(target).ndim == 1 else target.astype(np.float64)
    t = (1 - label_smoothing) * t + label_smoothing / c
    return float(-(t * logp).sum() / n)


def cross_entropy_grad(logits, target, label_smoothing=0.0):
    p = np.exp(log_softmax(logits.astype(np.float64)))
    n, c = logits.shape
    t = np.eye(c)[target] if np.asarray(target).ndim == 1 else target.astype(np.float64)
    t = (1 - label_smoothing) * t + label_smoothing / c
    return (p - t) / n


def mse(pred, target):
    return float(np.mean((pred.astype(np.float64) - target) ** 2))


def l1(pred, target):
    return float(np.mean(np.abs(pred.astype(np.float64) - target)))


def cross_entropy_full(logits, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """PyTorch's cross-entropy from its definition, over (N, C, d...) or (C,) inputs, in float64."""
    x = np.asarray(logits, np.float64)
    if x.ndim == 1:
        x, target = x[None], np.asarray(target)[None]
        squeeze = True
    else:
        squeeze = False
    c = x.shape[1]
    x = np.moveaxis(x, 1, -1).reshape(-1, c)
    logp = log_softmax(x)
    w = np.ones(c) if weight is None else np.asarray(weight, np.float64)
    target = np.asarray(target)
    if target.dtype.kind == "f":
        t = np.moveaxis(target.astype(np.float64), 1, -1).reshape(-1, c) if target.ndim > 1 else target[None]
        t = (1 - label_smoothing) * t + label_smoothing / c
        losses = -(t * w * logp).sum(axis=1)
        total_weight = len(losses)
    else:
        y = target.reshape(-1)
        keep = y != ignore_index
        ys = np.where(keep, y, 0)
        nll = -w[ys] * logp[np.arange(len(ys)), ys]
        smooth = -(w * logp).sum(axis=1)
        losses = np.where(keep, (1 - label_smoothing) * nll + label_smoothing / c * smooth, 0.0)
        total_weight = (w[ys] * keep).sum()
    if reduction == "none":
        shape = () if squeeze else (logits.shape[0],) + logits.shape[2:]
        return losses.reshape(shape)
    return losses.sum() / total_weight if reduction == "mean" else losses.sum()


def reduce(values, reduction):
    return values if reduction == "none" else (values.mean() if reduction == "mean" else values.sum())


def bce_with_logits(x, y, weight=None, pos_weight=None, reduction="mean"):
    """From the definition with log-sigmoids (float64): -w [p y log s(x) + (1 - y) log(1 - s(x))]."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    log_s, log_1ms = -np.logaddexp(0, -x), -np.logaddexp(0, x)
    p = 1.0 if pos_weight is None else pos_weight
    loss = -(p * y * log_s + (1 - y) * log_1ms)
    return reduce(loss if weight is None else loss * weight, reduction)


def smooth_l1(x, y, beta=1.0, reduction="mean"):
    d = np.abs(np.asarray(x, np.float64) - y)
    loss = d if beta == 0 else np.where(d < beta, 0.5 * d ** 2 / beta, d - 0.5 * beta)
    return reduce(loss, reduction)
