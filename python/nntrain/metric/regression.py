"""Regression metrics, scikit-learn's definitions (``mean_absolute_error``, ``root_mean_squared_error``,
``r2_score`` with the default ``multioutput='uniform_average'``): with several outputs (targets (N, D)),
each is computed per output column and the D values averaged.

    MAE  = mean |pred - target|        RMSE = sqrt(mean (pred - target)^2)
    R2   = 1 - sum (pred - target)^2 / sum (target - mean target)^2

R2 of a constant target (zero denominator) is 1.0 when the predictions are exact and 0.0 otherwise
(scikit-learn's ``force_finite``); with fewer than two examples it is NaN. Sums are kept in float64 per
output, and the target's spread is merged batch by batch with Chan's update (no sum of squares minus a
squared sum, which cancels catastrophically for targets far from zero).
"""

import math

import numpy as np

from .base import Metric


def _columns(pred, target):
    """pred and target as float64 (N, D); a target (N,) fits a prediction (N, 1) and vice versa."""
    pred, target = np.asarray(pred, dtype=np.float64), np.asarray(target, dtype=np.float64)
    if pred.shape != target.shape:
        if pred.size != target.size or len(pred) != len(target):
            raise ValueError(f"pred of shape {pred.shape} does not match target of shape {target.shape}")
        target = target.reshape(pred.shape)
    n = len(pred)
    return pred.reshape(n, -1), target.reshape(n, -1)


class _RegressionMetric(Metric):
    def __init__(self, name):
        self._name = name
        self.reset()

    def reset(self):
        self.count = 0
        self.sums = None  # per output column, allocated on the first batch

    def update(self, pred, target):
        pred, target = _columns(pred, target)
        if not len(pred):
            return
        if self.sums is None:
            self.sums = self._zeros(pred.shape[1])
        elif pred.shape[1] != len(self.sums[0]):
            raise ValueError(f"{type(self).__name__}: {pred.shape[1]} outputs, earlier batches had {len(self.sums[0])}")
        self._add(pred, target)
        self.count += len(pred)

    @staticmethod
    def _zeros(d):
        return [np.zeros(d)]

    def accumulate(self):
        if not self.count:
            return math.nan
        return float(np.mean(self._per_output()))


class MAE(_RegressionMetric):
    """Mean absolute error."""

    def __init__(self, name="mae"):
        super().__init__(name)

    def _add(self, pred, target):
        self.sums[0] += np.abs(pred - target).sum(axis=0)

    def _per_output(self):
        return self.sums[0] / self.count


class RMSE(_RegressionMetric):
    """Root mean squared error (per output, then averaged)."""

    def __init__(self, name="rmse"):
        super().__init__(name)

    def _add(self, pred, target):
        self.sums[0] += np.square(pred - target).sum(axis=0)

    def _per_output(self):
        return np.sqrt(self.sums[0] / self.count)


class R2(_RegressionMetric):
    """Coefficient of determination: the fraction of the target's variance the predictions explain."""

    def __init__(self, name="r2"):
        super().__init__(name)

    @staticmethod
    def _zeros(d):
        return [np.zeros(d), np.zeros(d), np.zeros(d)]  # squared error, target mean, target M2

    def _add(self, pred, target):
        residual, mean, m2 = self.sums
        residual += np.square(pred - target).sum(axis=0)
        n_a, n_b = self.count, len(target)
        mean_b = target.mean(axis=0)
        m2_b = np.square(target - mean_b).sum(axis=0)
        delta = mean_b - mean
        mean += delta * n_b / (n_a + n_b)
        m2 += m2_b + np.square(delta) * n_a * n_b / (n_a + n_b)

    def _per_output(self):
        residual, _, total = self.sums
        scores = np.ones_like(residual)
        valid = (total != 0) & (residual != 0)
        scores[valid] = 1 - residual[valid] / total[valid]
        scores[(residual != 0) & (total == 0)] = 0.0
        return scores

    def accumulate(self):
        return math.nan if self.count < 2 else super().accumulate()
