"""What every callback shares: the hooks the Trainer calls, saved state, and reading a monitored value.

Monitored names are the keys of ``EpochMetrics.as_dict()``: ``train_loss``, ``train_accuracy``,
``val_loss``, ``val_accuracy``, ``lr``, ``seconds``, ``samples_per_second``, and ``val_<name>`` for every
scalar metric the trainer's ``metrics`` list computes on the validation data (``val_f1``, ``val_mae``...).
"""

import math


class Callback:
    """Hooks the Trainer calls; override what you need. ``trainer.stop_training = True`` ends training
    (checked after every step, so a callback may stop mid-epoch).

    A callback with state that matters for resuming returns it from ``state_dict()`` (JSON values, or NumPy
    arrays, which the checkpoint stores as tensors); ``Trainer.state_dict()`` collects it and the next
    ``fit`` after ``Trainer.load_state_dict()`` hands it back through ``load_state_dict``.
    """

    def on_train_begin(self, trainer):
        pass

    def on_epoch_begin(self, trainer, epoch):
        pass

    def on_batch_end(self, trainer, epoch, step, loss, batch_size):
        pass

    def on_epoch_end(self, trainer, metrics):
        pass

    def on_train_end(self, trainer, history):
        pass

    def state_dict(self):
        return {}

    def load_state_dict(self, state):
        pass


class EpochObserver(Callback):
    """A callback that acts on each epoch's metrics once, and catches up on epochs it has not seen.

    A checkpoint taken in ``on_epoch_end`` by a callback listed earlier holds this one's state from
    before that epoch; a fresh callback on a resumed trainer has seen nothing. Either way, on train begin
    it observes the epochs of ``trainer.history`` after its ``last_epoch``, so patience, best values and
    rate reductions count across an interruption exactly as in one uninterrupted run. ``observe`` learns
    whether the model still holds that epoch's weights (only the latest epoch's).
    """

    last_epoch = 0

    def on_train_begin(self, trainer):
        history = trainer.history
        for i, metrics in enumerate(history):
            if metrics.epoch > self.last_epoch:
                self._observe(trainer, metrics, current=i == len(history) - 1)

    def on_epoch_end(self, trainer, metrics):
        self._observe(trainer, metrics, current=True)

    def _observe(self, trainer, metrics, current):
        self.observe(trainer, metrics, current)
        self.last_epoch = metrics.epoch

    def observe(self, trainer, metrics, current):
        raise NotImplementedError


HIGHER_IS_BETTER = {"acc", "accuracy", "precision", "recall", "f1", "r2"}


def resolve_mode(mode, monitor, who):
    """'min' or 'max'; 'auto' is 'max' for accuracies, precision, recall, F1 and R2, else 'min'."""
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"{who}: mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode == "auto":
        return "max" if HIGHER_IS_BETTER & set(monitor.split("_")) else "min"
    return mode


def monitored(metrics, monitor, who):
    """The value of ``monitor`` in an epoch's metrics (NaN when not measured, e.g. no validation data)."""
    values = metrics.as_dict()
    if monitor not in values:
        raise ValueError(f"{who}: monitor '{monitor}' is not an epoch metric; there are: {', '.join(values)}")
    value = values[monitor]
    return float(value) if isinstance(value, (int, float)) else math.nan


class Best:
    """The best value so far of a monitored quantity: ``improves(v)`` is whether v beats it by more than
    ``min_delta`` (in the direction of ``mode``)."""

    def __init__(self, mode, min_delta=0.0):
        if not min_delta >= 0:
            raise ValueError(f"min_delta must be >= 0, got {min_delta}")
        self.mode, self.min_delta = mode, float(min_delta)
        self.value = math.inf if mode == "min" else -math.inf

    def improves(self, value):
        if self.mode == "min":
            return value < self.value - self.min_delta
        return value > self.value + self.min_delta
