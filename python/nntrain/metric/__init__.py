"""Metrics that accumulate over batches: ``reset()``, ``update(pred, target)``, ``accumulate()``, ``name()``.

    Accuracy(topk=(1,))               acc, acc_top5, ...
    Precision, Recall, F1             average='macro' | 'micro' | 'weighted' | None (per class)
    ConfusionMatrix                   matrix[true, predicted]
    MAE, RMSE, R2                     regression

Predictions are scores (N, C) -- logits or probabilities -- or class indices (N,); targets are integer
labels (N,) or one-hot rows (N, C). Every definition is scikit-learn's (tests check them against it).
"""

from .base import Metric, class_labels, class_predictions
from .classification import F1, Accuracy, ConfusionMatrix, Precision, Recall
from .regression import MAE, R2, RMSE

__all__ = ["Accuracy", "ConfusionMatrix", "F1", "MAE", "Metric", "Precision", "R2", "RMSE", "Recall",
           "class_labels", "class_predictions"]
