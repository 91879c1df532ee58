"""What Model accepts, checked before anything runs: each misuse a one-line TypeError or ValueError that says
what was given and what is expected."""

import numpy as np

from ._tensor import Tensor
from .callbacks import Callback
from .data import DataLoader
from .metric import Metric
from .optim.optimizer import Optimizer


def kind(data, who):
    """'loader' or 'dataset', or a TypeError saying what was expected."""
    if isinstance(data, DataLoader):
        return "loader"
    if isinstance(data, (np.ndarray, Tensor)) or (isinstance(data, tuple) and len(data) == 2 and
                                                  all(isinstance(d, np.ndarray) for d in data)):
        raise TypeError(f"{who} is {describe(data)}; expected a Dataset or a DataLoader (for arrays of inputs "
                        "and labels: nntrain.data.ArrayDataset(x, y))")
    if isinstance(data, (str, bytes, dict)) or not hasattr(data, "__len__"):
        raise TypeError(f"{who} is {describe(data)}; expected a Dataset (with __getitem__ and __len__) or a "
                        "DataLoader")
    return "dataset" if hasattr(data, "__getitem__") else "loader"


def describe(value):
    if isinstance(value, np.ndarray):
        return f"a {value.dtype} array of shape {value.shape}"
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)}"
    return f"a {type(value).__name__}"


def check_optimizer(optimizer, network):
    if not isinstance(optimizer, Optimizer):
        what = f"the class {optimizer.__name__}" if isinstance(optimizer, type) else describe(optimizer)
        raise TypeError(f"Model.prepare: optimizer must be an nntrain.optim optimizer such as "
                        f"optim.Adam(model.parameters()), got {what}")
    own = {id(p) for p in network.parameters()}
    if any(id(p) not in own for group in optimizer.param_groups for p in group["params"]):
        raise ValueError("Model.prepare: the optimizer updates parameters that are not this network's; build it "
                         "from model.parameters()")


def check_loss(loss):
    if isinstance(loss, type):
        raise TypeError(f"Model.prepare: loss is the class {loss.__name__}; pass an instance, {loss.__name__}()")
    if isinstance(loss, Metric):
        raise TypeError(f"Model.prepare: loss is a metric ({type(loss).__name__}); metrics come third: "
                        "prepare(optimizer, loss, metrics)")
    if not callable(loss):
        raise TypeError(f"Model.prepare: loss must be a loss module such as nn.CrossEntropyLoss() or a function "
                        f"of (outputs, labels), got {describe(loss)}")


def metric_list(metrics):
    if metrics is None:
        return []
    items = list(metrics) if isinstance(metrics, (list, tuple)) else [metrics]
    for m in items:
        if isinstance(m, type) and issubclass(m, Metric):
            raise TypeError(f"Model.prepare: metric is the class {m.__name__}; pass an instance, {m.__name__}()")
        if not isinstance(m, Metric):
            raise TypeError(f"Model.prepare: metrics must be nntrain.metric objects such as metric.Accuracy(), "
                            f"got {describe(m)} ({m!r})")
    return items


def callback_list(callbacks):
    if callbacks is None:
        return []
    items = list(callbacks) if isinstance(callbacks, (list, tuple)) else [callbacks]
    for cb in items:
        if not isinstance(cb, Callback):
            what = f"the class {cb.__name__}" if isinstance(cb, type) else describe(cb)
            raise TypeError(f"Model.fit: callbacks must be nntrain.callbacks objects such as "
                            f"callbacks.EarlyStopping(), got {what}")
    return items


def check_positive(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"Model: {name} must be a positive integer, got {value!r}")


def check_verbose(verbose):
    if verbose not in (0, 1, 2):
        raise ValueError(f"Model: verbose must be 0 (silent), 1 (progress bar and lines) or 2 (lines), got {verbose!r}")
