"""The Metric protocol, and turning what a model outputs and what a data set holds into class indices.

A metric accumulates over batches and answers at the end, so a value over a whole data set never needs
the whole data set in memory:

    metric.reset()
    for x, y in batches:
        metric.update(model(x), y)
    metric.accumulate()        # the value (``compute()`` is the same: torchmetrics' name for it)
    metric.name()              # its name, e.g. "acc"; a list when one metric reports several values

The protocol is PaddlePaddle hapi's ``paddle.metric.Metric`` (reset / update / accumulate / name) with
the inputs of torchmetrics: ``update`` takes the model's raw output and the target directly. (Paddle's own
``compute`` is a per-batch pre-processing step feeding ``update``; nothing here needs one.)
"""

import numpy as np


class Metric:
    """Base class: subclasses define ``reset``, ``update(pred, target)``, ``accumulate`` and ``name``."""

    def reset(self):
        raise NotImplementedError

    def update(self, pred, target):
        raise NotImplementedError

    def accumulate(self):
        raise NotImplementedError

    def compute(self):
        return self.accumulate()

    def name(self):
        return self._name

    def results(self):
        """{name: value} for every value this metric reports (floats, or arrays for per-class metrics)."""
        names, values = self.name(), self.accumulate()
        if isinstance(names, str):
            return {names: values}
        return dict(zip(names, values))

    def __repr__(self):
        return f"{type(self).__name__}(name={self.name()!r})"


def class_labels(target):
    """Integer class labels (N,) from labels (N,) or (N, 1), or from one-hot / probability rows (N, C)."""
    target = np.asarray(target)
    if target.ndim == 1 and target.dtype == np.int64:  # what loaders hand out: nothing to do (once per step)
        return target
    if target.ndim == 2 and target.shape[1] == 1:
        target = target[:, 0]
    if target.ndim == 2:
        return target.argmax(axis=1)
    if target.ndim != 1:
        raise ValueError(f"target: expected class labels (N,) or one-hot rows (N, C), got shape {target.shape}")
    if target.size and target.dtype.kind not in "iub":
        if not np.all(np.mod(target, 1) == 0):
            raise ValueError(f"target: class labels must be integers, got {target.dtype} values such as "
                             f"{target[np.mod(target, 1) != 0][0]}")
    return target.astype(np.int64, copy=False)


def class_predictions(pred):
    """Predicted classes (N,) from scores (N, C) -- logits or probabilities, the largest wins -- or from
    class indices (N,) given directly."""
    pred = np.asarray(pred)
    if pred.ndim == 2:
        return pred.argmax(axis=1)
    if pred.ndim == 1 and (pred.dtype.kind in "iub" or pred.size == 0):
        return pred.astype(np.int64, copy=False)
    raise ValueError(f"pred: expected scores (N, C) or integer class indices (N,), got {pred.dtype} of shape "
                     f"{pred.shape}")


def check_batch(pred, target):
    if len(pred) != len(target):
        raise ValueError(f"{len(pred)} predictions but {len(target)} targets")
    if np.size(target) and np.min(target) < 0:
        raise ValueError(f"target: class labels must be >= 0, got {np.min(target)}")
