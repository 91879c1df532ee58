"""Regression metrics against scikit-learn's definitions (one and several outputs, targets far from zero)."""

import math

import numpy as np
import pytest

from nntrain import metric

skm = pytest.importorskip("sklearn.metrics")


def fed(m, pred, target, size=37):
    m.reset()
    for i in range(0, len(target), size):
        m.update(pred[i:i + size], target[i:i + size])
    return m.accumulate()


@pytest.mark.parametrize("outputs", [None, 1, 3])
def test_regression_metrics_match_scikit_learn(rng, outputs):
    shape = (150,) if outputs is None else (150, outputs)
    y = 1000 + 3 * rng.standard_normal(shape)  # far from zero: a naive sum of squares would cancel
    pred = y + rng.standard_normal(shape)
    for ours, theirs in ((metric.MAE(), skm.mean_absolute_error), (metric.RMSE(), skm.root_mean_squared_error),
                         (metric.R2(), skm.r2_score)):
        np.testing.assert_allclose(fed(ours, pred, y), theirs(y, pred), rtol=1e-10, err_msg=ours.name())


def test_regression_accepts_a_target_column_for_a_prediction_row(rng):
    y = rng.standard_normal(50)
    pred = (y + 0.1 * rng.standard_normal(50)).astype(np.float32)[:, None]
    assert fed(metric.R2(), pred, y) == pytest.approx(skm.r2_score(y, pred[:, 0]), rel=1e-6)


def test_r2_of_a_constant_target_follows_scikit_learn():
    y = np.full(10, 2.0)
    assert fed(metric.R2(), y.copy(), y) == skm.r2_score(y, y) == 1.0
    assert fed(metric.R2(), y + 1, y) == skm.r2_score(y, y + 1) == 0.0
    r2 = metric.R2()
    r2.update(np.array([1.0]), np.array([2.0]))
    assert math.isnan(r2.accumulate())  # one example: undefined


def test_a_metric_with_no_updates_is_nan():
    for m in (metric.Accuracy(), metric.MAE(), metric.RMSE(), metric.R2()):
        assert math.isnan(m.accumulate())


def test_a_target_that_does_not_fit_the_prediction_is_refused():
    with pytest.raises(ValueError, match="does not match target"):
        metric.MAE().update(np.zeros((4, 2)), np.zeros(3))
