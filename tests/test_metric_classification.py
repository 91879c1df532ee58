"""Classification metrics against scikit-learn's definitions on random labels, batch by batch, including
classes that are never predicted or never occur (zero division), and the input forms each accepts."""

import math

import numpy as np
import pytest

from nntrain import metric

skm = pytest.importorskip("sklearn.metrics")

K = 6


def batches(n, size=37):
    return [slice(i, i + size) for i in range(0, n, size)]


def fed(m, pred, target):
    m.reset()
    for s in batches(len(target)):
        m.update(pred[s], target[s])
    return m.accumulate()


def random_case(rng, n=200, predicted_classes=K, true_classes=K):
    """Scores (n, K) whose argmax stays within the first ``predicted_classes`` classes; labels within the
    first ``true_classes``: classes never predicted, or never occurring, divide by zero."""
    y = rng.integers(0, true_classes, n)
    scores = rng.standard_normal((n, K))
    scores[:, predicted_classes:] -= 100
    return scores, y


CASES = {"all classes": dict(), "classes never predicted": dict(predicted_classes=3),
         "classes never occurring": dict(true_classes=4), "both": dict(predicted_classes=2, true_classes=4)}


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("average", ["macro", "micro", "weighted", None])
@pytest.mark.parametrize("zero_division", [0.0, 1.0, math.nan])
@pytest.mark.parametrize("num_classes", [K, None])
def test_precision_recall_f1_match_scikit_learn(rng, case, average, zero_division, num_classes):
    scores, y = random_case(rng, **CASES[case])
    pred = scores.argmax(axis=1)
    # With num_classes every class counts; without, scikit-learn's default: the classes seen in either.
    # Per class (average=None) the index is the class, so both sides list every class up to the largest.
    labels = list(range(num_classes or max(y.max(), pred.max()) + 1)) if num_classes or average is None else None
    for ours, theirs in ((metric.Precision, skm.precision_score), (metric.Recall, skm.recall_score),
                         (metric.F1, skm.f1_score)):
        got = fed(ours(num_classes, average=average, zero_division=zero_division), scores, y)
        want = theirs(y, pred, labels=labels, average=average, zero_division=zero_division)
        np.testing.assert_allclose(got, want, rtol=1e-12, err_msg=f"{ours.__name__} {average}")


def test_zero_division_cases_give_the_documented_values():
    y = np.array([0, 0, 1, 1])
    pred = np.array([0, 0, 0, 0])  # class 1 is never predicted; class 2 neither occurs nor is predicted
    p = metric.Precision(3, average=None)
    p.update(pred, y)
    np.testing.assert_array_equal(p.accumulate(), [0.5, 0.0, 0.0])
    f1 = metric.F1(3, average=None, zero_division=1.0)
    f1.update(pred, y)
    # class 1 occurs but is never predicted: recall 0, so F1 is 0 even though precision is undefined
    np.testing.assert_allclose(f1.accumulate(), [2 / 3, 0.0, 1.0])
    nan_avg = metric.Precision(3, zero_division=math.nan)
    nan_avg.update(pred, y)
    assert nan_avg.accumulate() == 0.5  # classes 1 and 2 are undefined and skipped


@pytest.mark.parametrize("num_classes", [K, None])
def test_confusion_matrix_matches_scikit_learn(rng, num_classes):
    scores, y = random_case(rng, true_classes=5)
    got = fed(metric.ConfusionMatrix(num_classes), scores, y)
    k = num_classes or max(y.max(), scores.argmax(1).max()) + 1
    np.testing.assert_array_equal(got, skm.confusion_matrix(y, scores.argmax(1), labels=range(k)))


def test_accuracy_top_k_matches_scikit_learn_and_names_follow_paddle(rng):
    scores, y = random_case(rng)
    acc = metric.Accuracy(topk=(1, 2, 5))
    assert acc.name() == ["acc", "acc_top2", "acc_top5"]
    got = fed(acc, scores, y)
    want = [skm.top_k_accuracy_score(y, scores, k=k, labels=range(K)) for k in (1, 2, 5)]
    np.testing.assert_allclose(got, want, rtol=1e-12)
    assert acc.results() == dict(zip(acc.name(), got))
    single = metric.Accuracy()
    assert single.name() == "acc" and fed(single, scores, y) == pytest.approx(skm.accuracy_score(y, scores.argmax(1)))


def test_inputs_one_hot_targets_column_labels_and_class_predictions(rng):
    scores, y = random_case(rng)
    want = fed(metric.F1(K, average=None), scores, y)
    one_hot = np.eye(K, dtype=np.float32)[y]
    np.testing.assert_array_equal(fed(metric.F1(K, average=None), scores, one_hot), want)
    np.testing.assert_array_equal(fed(metric.F1(K, average=None), scores.argmax(1), y[:, None]), want)
    np.testing.assert_array_equal(fed(metric.F1(K, average=None), scores, y.astype(np.float32)), want)


def test_bad_inputs_are_one_line_value_errors():
    with pytest.raises(ValueError, match="3 predictions but 2 targets"):
        metric.Accuracy().update(np.zeros((3, 2)), np.array([0, 1]))
    with pytest.raises(ValueError, match="class 4 is outside"):
        metric.ConfusionMatrix(3).update(np.array([0, 4]), np.array([0, 1]))
    with pytest.raises(ValueError, match="integer class indices"):
        metric.Recall().update(np.array([0.2, 0.7]), np.array([0, 1]))
    with pytest.raises(ValueError, match="class labels must be integers"):
        metric.Recall().update(np.zeros((2, 2)), np.array([0.5, 1]))
    with pytest.raises(ValueError, match="top-2 needs scores"):
        metric.Accuracy(topk=2).update(np.array([0, 1]), np.array([0, 1]))
    with pytest.raises(ValueError, match="average must be"):
        metric.F1(average="binary")
    with pytest.raises(ValueError, match="zero_division"):
        metric.F1(zero_division="warn")
