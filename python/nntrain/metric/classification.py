"""Classification metrics: top-k accuracy, and everything read off a confusion matrix.

Precision, recall and F1 follow scikit-learn's definitions exactly (``sklearn.metrics.precision_score``
and friends with ``labels=range(num_classes)`` when the number of classes is given, else over the classes
that occur in the targets or the predictions):

    precision_c = tp_c / (tp_c + fp_c)        recall_c = tp_c / (tp_c + fn_c)
    F1_c        = 2 tp_c / (2 tp_c + fp_c + fn_c)

A ratio whose denominator is zero -- precision of a class never predicted, recall of a class that never
occurs, F1 of a class that does neither -- is ``zero_division`` (0.0 by default, or 1.0, or NaN), as in
scikit-learn (whose default "warn" also gives 0.0, with a warning; the library never warns about this).
With NaN, averages skip the undefined classes, again as scikit-learn does. F1 is *not* zero-division
when only precision is undefined: a class that occurs but is never predicted has F1 = 0.

Averages: ``macro`` (the mean over classes, each counting once), ``micro`` (pool every class's counts
first: for single-label data precision = recall = F1 = accuracy), ``weighted`` (the mean weighted by each
class's support), ``None`` (one value per class, index = class).
"""

import math

import numpy as np

from .base import Metric, check_batch, class_labels, class_predictions

AVERAGES = ("macro", "micro", "weighted", None)


class Accuracy(Metric):
    """Fraction of examples whose label is among the k highest scores, for each k in ``topk``.

    Names: ``acc`` for k = 1, ``acc_top5`` for k = 5 (PaddlePaddle's). ``accumulate()`` returns one float
    for a single k, else a list in the order of ``topk``. Top-1 takes class predictions (N,) as well as
    scores (N, C); k > 1 needs scores.
    """

    def __init__(self, topk=(1,), name=None):
        topk = (topk,) if isinstance(topk, int) else tuple(topk)
        if not topk or any(isinstance(k, bool) or not isinstance(k, int) or k < 1 for k in topk):
            raise ValueError(f"Accuracy: topk must be positive integers, got {topk!r}")
        self.topk = topk
        default = ["acc" if k == 1 else f"acc_top{k}" for k in topk]
        self._name = default if name is None else ([name] if isinstance(name, str) else list(name))
        if len(self._name) != len(topk):
            raise ValueError(f"Accuracy: {len(self._name)} names for {len(topk)} values of topk")
        self.reset()

    def reset(self):
        self.correct = np.zeros(len(self.topk), dtype=np.int64)
        self.total = 0

    def update(self, pred, target):
        pred, labels = np.asarray(pred), class_labels(target)
        check_batch(pred, labels)
        for i, k in enumerate(self.topk):
            self.correct[i] += int(np.count_nonzero(self._hits(pred, labels, k)))
        self.total += len(labels)

    @staticmethod
    def _hits(pred, labels, k):
        if k == 1:
            return class_predictions(pred) == labels
        if pred.ndim != 2:
            raise ValueError(f"Accuracy: top-{k} needs scores (N, C), got shape {pred.shape}")
        if k >= pred.shape[1]:
            return np.ones(len(labels), dtype=bool)
        top = np.argpartition(-pred, k - 1, axis=1)[:, :k]
        return (top == labels[:, None]).any(axis=1)

    def accumulate(self):
        values = [c / self.total if self.total else math.nan for c in self.correct.tolist()]
        return values[0] if len(values) == 1 else values

    def name(self):
        return self._name[0] if len(self._name) == 1 else list(self._name)


class ConfusionMatrix(Metric):
    """``matrix[true, predicted]``: counts of examples of each true class by the class predicted.

    With ``num_classes`` the matrix is that size and a label outside it is an error; without, it grows
    to the largest class seen.
    """

    def __init__(self, num_classes=None, name="confusion_matrix"):
        if num_classes is not None and (isinstance(num_classes, bool) or int(num_classes) != num_classes
                                        or num_classes < 1):
            raise ValueError(f"{type(self).__name__}: num_classes must be a positive integer, got {num_classes!r}")
        self.num_classes = None if num_classes is None else int(num_classes)
        self._name = name
        self.reset()

    def reset(self):
        self.matrix = np.zeros((self.num_classes or 0,) * 2, dtype=np.int64)

    def update(self, pred, target):
        labels, predicted = class_labels(target), class_predictions(pred)
        check_batch(predicted, labels)
        if not len(labels):
            return
        if predicted.min() < 0:
            raise ValueError(f"pred: class indices must be >= 0, got {predicted.min()}")
        top = int(max(labels.max(), predicted.max())) + 1
        k = len(self.matrix)
        if top > k:
            if self.num_classes is not None:
                raise ValueError(f"{type(self).__name__}: class {top - 1} is outside [0, {self.num_classes})")
            grown = np.zeros((top, top), dtype=np.int64)
            grown[:k, :k] = self.matrix
            self.matrix, k = grown, top
        self.matrix += np.bincount(labels * k + predicted, minlength=k * k).reshape(k, k)

    def accumulate(self):
        return self.matrix.copy()


class _ConfusionScore(ConfusionMatrix):
    """Precision, recall or F1: a per-class ratio of confusion counts, then an average."""

    kind = None  # "precision", "recall" or "f1"

    def __init__(self, num_classes=None, average="macro", zero_division=0.0, name=None):
        if average not in AVERAGES:
            raise ValueError(f"{type(self).__name__}: average must be one of 'macro', 'micro', 'weighted' or "
                             f"None, got {average!r}")
        if not (zero_division in (0, 1) or (isinstance(zero_division, float) and math.isnan(zero_division))):
            raise ValueError(f"{type(self).__name__}: zero_division must be 0.0, 1.0 or nan, got {zero_division!r}")
        self.average, self.zero_division = average, float(zero_division)
        suffix = {"macro": "", "micro": "_micro", "weighted": "_weighted", None: "_per_class"}[average]
        super().__init__(num_classes, name or self.kind + suffix)

    def _counts(self):
        """(tp, predicted, actual) per class, over the classes the averages run over."""
        m = self.matrix
        tp, predicted, actual = np.diag(m), m.sum(axis=0), m.sum(axis=1)
        if self.num_classes is None and self.average is not None:  # scikit-learn's default label set
            present = (predicted + actual) > 0
            tp, predicted, actual = tp[present], predicted[present], actual[present]
        return tp, predicted, actual

    def _ratio(self, tp, predicted, actual):
        raise NotImplementedError

    def accumulate(self):
        tp, predicted, actual = self._counts()
        if self.average == "micro":
            tp, predicted, actual = tp.sum(keepdims=True), predicted.sum(keepdims=True), actual.sum(keepdims=True)
        numerator, denominator = self._ratio(tp, predicted, actual)
        scores = np.full(len(tp), self.zero_division)
        defined = denominator > 0
        scores[defined] = numerator[defined] / denominator[defined]
        if self.average is None:
            return scores
        keep = ~np.isnan(scores)  # undefined classes drop out of the average when zero_division is NaN
        if not keep.any():
            return math.nan
        weights = actual[keep] if self.average == "weighted" and actual[keep].sum() > 0 else None
        return float(np.average(scores[keep], weights=weights))


class Precision(_ConfusionScore):
    """Of the examples predicted as class c, the fraction that are c."""

    kind = "precision"

    def _ratio(self, tp, predicted, actual):
        return tp, predicted


class Recall(_ConfusionScore):
    """Of the examples of class c, the fraction predicted as c."""

    kind = "recall"

    def _ratio(self, tp, predicted, actual):
        return tp, actual


class F1(_ConfusionScore):
    """Harmonic mean of precision and recall, 2 tp / (2 tp + fp + fn)."""

    kind = "f1"

    def _ratio(self, tp, predicted, actual):
        return 2 * tp, predicted + actual
