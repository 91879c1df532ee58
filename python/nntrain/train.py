"""The training loop: mini-batches through forward, loss, backward and the optimiser step.

    for each epoch:
        for (x, y) in the training batches:
            logits = model(x);  loss = loss_fn(logits, y) [+ penalties]
            loss.backward()                           # chain rule, op by op, into every parameter's .grad
            [clip the global gradient norm];  optimizer.step()
        evaluate on the validation data; scheduler.step(); callbacks

Any Module trains: a Sequential of built-in layers or a network whose forward the user wrote.

No printing here: progress, logging, checkpoints and early stopping are callbacks (nntrain.callbacks).
What is measured on the validation data is the ``metrics`` list (nntrain.metric): accuracy and the
confusion matrix unless told otherwise, MAE/RMSE/R2 for regression.
"""

import math
import time
from collections import Counter
from dataclasses import asdict, dataclass, field, fields

import numpy as np

from . import _structure
from . import functional as F
from ._tensor import Tensor
from .autograd.grad_mode import _Mode, no_grad
from .callbacks import Callback, EarlyStopping  # noqa: F401  (their home was here; kept importable)
from .metric import Accuracy, ConfusionMatrix, class_labels
from .optim.optimizer import Optimizer
from .step_plan import StepPlan


class NonFiniteError(RuntimeError):
    """The loss or a gradient became NaN or Inf; the message names the epoch, the step and the layer."""


class TrainingInterrupted(Exception):
    """Raised between two complete steps after ``Trainer.request_interrupt()`` (e.g. from a SIGINT
    handler): the model, optimiser, loader and ``trainer.state_dict()`` are consistent, so a checkpoint
    taken now resumes exactly."""

    def __init__(self, epoch, step):
        super().__init__(f"interrupted at epoch {epoch}, step {step}")
        self.epoch, self.step = epoch, step


@dataclass
class Evaluation:
    """What ``evaluate`` measured: the mean loss, the number of examples, and each metric's results by
    name (``acc``, ``confusion_matrix``, ``f1``, ``mae``...). ``accuracy``, ``confusion`` and
    ``per_class_accuracy`` read the default classification metrics (NaN / None when not measured)."""

    loss: float
    samples: int
    metrics: dict

    @property
    def accuracy(self):
        return self.metrics.get("acc", math.nan)

    @property
    def confusion(self):
        """confusion[true, predicted] counts, or None."""
        return self.metrics.get("confusion_matrix")

    @property
    def per_class_accuracy(self):
        """Fraction right of each true class (NaN for a class with no examples), or None."""
        m = self.confusion
        if m is None:
            return None
        support = m.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(support > 0, np.diag(m) / np.maximum(support, 1), np.nan)

    def scalars(self, prefix=""):
        """{prefix + name: value} of every single-number metric except ``acc`` (reported as accuracy)."""
        return {prefix + k: float(v) for k, v in self.metrics.items() if k != "acc" and np.ndim(v) == 0}

    def as_dict(self):
        out = {"loss": self.loss}
        if "acc" in self.metrics:
            out["accuracy"] = self.accuracy
        out["samples"] = self.samples
        if self.confusion is not None:
            out["per_class_accuracy"] = [None if np.isnan(a) else float(a) for a in self.per_class_accuracy]
            out["confusion"] = self.confusion.tolist()
        for k, v in self.metrics.items():
            if k not in ("acc", "confusion_matrix"):
                out[k] = float(v) if np.ndim(v) == 0 else np.asarray(v).tolist()
        return out


@dataclass
class EpochMetrics:
    epoch: int
    train_loss: float
    train_accuracy: float
    val_loss: float = float("nan")
    val_accuracy: float = float("nan")
    lr: float = float("nan")
    seconds: float = 0.0
    samples_per_second: float = 0.0
    extra: dict = field(default_factory=dict)  # val_<name> of further validation metrics (val_f1, val_mae)

    def as_dict(self):
        """Every value by name, the extra metrics beside the fixed ones: the names callbacks monitor."""
        out = asdict(self)
        out.update(out.pop("extra"))
        return out

    @classmethod
    def from_dict(cls, values):
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known},
                   extra={k: v for k, v in values.items() if k not in known})


def _batches(data, batch_size):
    """Accepts a DataLoader-like iterable of (x, y) or a dataset with .x and .y."""
    if hasattr(data, "x") and hasattr(data, "y"):
        for i in range(0, len(data.y), batch_size):
            yield data.x[i:i + batch_size], data.y[i:i + batch_size]
    else:
        yield from data


def _output(model, out):
    if not isinstance(out, Tensor):
        raise TypeError(f"{type(model).__name__}.forward returned {type(out).__name__}, expected a Tensor "
                        "(the network's outputs, e.g. logits)")
    return out


def default_metrics(num_classes=None):
    """What evaluate measures unless told otherwise: accuracy and the confusion matrix."""
    return [Accuracy(), ConfusionMatrix(num_classes)]


def evaluate(model, data, loss_fn=None, num_classes=None, batch_size=1024, metrics=None):
    """Mean loss and each of ``metrics`` (default: accuracy and the confusion matrix) of ``model`` on
    ``data``, in eval mode. For regression pass the loss (MSELoss, L1Loss) and e.g. [MAE(), RMSE(), R2()]."""
    from .nn.loss import CrossEntropyLoss

    loss_fn = loss_fn or CrossEntropyLoss()
    metrics = default_metrics(num_classes) if metrics is None else list(metrics)
    for m in metrics:
        m.reset()
    was_training = model.training
    model.eval()
    total_loss, n = 0.0, 0
    try:
        for x, y in _batches(data, batch_size):
            if len(x) == 0:
                continue
            with no_grad():
                logits = _output(model, model(Tensor(np.ascontiguousarray(x, dtype=model.dtype))))
                total_loss += float(loss_fn(logits, y)) * len(x)
            out = logits.data
            n += len(x)
            for m in metrics:
                m.update(out, y)
    finally:
        model.train(was_training)
    if n == 0:
        raise ValueError("evaluate: no samples")
    results = {}
    for m in metrics:
        results.update(m.results())
    return Evaluation(total_loss / n, n, results)


def first_non_finite_module(model, x):
    """The name of the first layer whose output holds a NaN or Inf when ``model`` runs on ``x`` again, or None.

    Only called once training has gone wrong: the forward is repeated with a hook on every module, and
    buffers (BatchNorm statistics) and random generators (Dropout) are restored afterwards.
    """
    from .nn.module import register_module_forward_hook

    names = {id(m): name or type(m).__name__ for name, m in model.named_modules()}
    buffers = [(b, b.copy()) for _, b in model.named_buffers()]
    generators = [(g, g.bit_generator.state) for m in model.modules() for g in vars(m).values()
                  if isinstance(g, np.random.Generator)]
    found = []

    def check(module, inputs, output):
        if not found and isinstance(output, Tensor) and output.dtype.kind == "f" and not np.isfinite(output.data).all():
            found.append(f"'{names.get(id(module), '?')}' ({type(module).__name__})")

    try:
        with no_grad(), register_module_forward_hook(check):
            model(Tensor(x))
    except Exception:  # a failure while diagnosing must not hide the error being reported
        pass
    finally:
        for b, saved in buffers:
            b[...] = saved
        for g, state in generators:
            g.bit_generator.state = state
    return found[0] if found else None


@dataclass
class Trainer:
    """Runs mini-batch training. ``penalties`` are L1/L2 terms (nn.L1Penalty, nn.L2Penalty) added to
    the loss and to the gradients; ``clip_grad_norm`` caps the global gradient norm before each step.

    ``metrics`` (nntrain.metric objects) are measured on the validation data each epoch: the one named
    ``acc`` fills ``val_accuracy``, every other single number becomes ``val_<name>`` in the epoch's
    metrics. The default is accuracy; training accuracy is counted only when the list has an Accuracy
    (for regression give e.g. [MAE(), RMSE(), R2()]: train_accuracy and val_accuracy are then NaN)."""

    model: object
    optimizer: object
    loss_fn: object = None
    scheduler: object = None
    clip_grad_norm: float = None
    penalties: tuple = ()
    callbacks: list = field(default_factory=list)
    num_classes: int = None
    distributed: object = None   # a distributed.Distributed: data-parallel over MPI ranks
    metrics: list = None

    def __post_init__(self):
        from .nn.loss import CrossEntropyLoss

        if self.loss_fn is None:
            self.loss_fn = CrossEntropyLoss()
        if self.clip_grad_norm is not None and not self.clip_grad_norm > 0:
            raise ValueError(f"clip_grad_norm must be > 0, got {self.clip_grad_norm}")
        self.stop_training = False
        self.history = []
        self.epoch = 0
        self.last_grad_norm = float("nan")
        self._params = self.model.parameters()
        self._fused_norm_for = (None, False)  # (optimizer, whether its step takes the norm): _norm_in_step
        self._plan, self._plan_key = None, (None, None, None)  # _step_plan's last answer and what it was for
        self._interrupt = False
        self._partial = None  # sums of an epoch interrupted part-way: resumed by the next fit
        self._counts_correct = self.metrics is None or any(isinstance(m, Accuracy) for m in self.metrics)
        self._callback_states = {}  # loaded by load_state_dict, handed to the callbacks by the next fit

    def request_interrupt(self):
        """Ask fit to stop after the step in progress (safe to call from a signal handler)."""
        self._interrupt = True

    def state_dict(self):
        """Epochs done, their metrics, the sums of a part-done epoch and the callbacks' states: JSON values,
        and NumPy arrays where a callback keeps some (nntrain.checkpoint stores those as tensors)."""
        callbacks = {key: cb.state_dict() for key, cb in self._keyed_callbacks()}
        return {"epoch": self.epoch, "history": [m.as_dict() for m in self.history], "partial": self._partial,
                "callbacks": {key: state for key, state in callbacks.items() if state}}

    def load_state_dict(self, state):
        self.epoch = int(state["epoch"])
        self.history = [EpochMetrics.from_dict(m) for m in state["history"]]
        self._partial = state.get("partial")
        self._callback_states = dict(state.get("callbacks") or {})

    def _keyed_callbacks(self):
        """(key, callback): the class name, with '#2', '#3'... for a second, third one of a class."""
        seen = Counter()
        for cb in self.callbacks:
            name = type(cb).__name__
            seen[name] += 1
            yield (name if seen[name] == 1 else f"{name}#{seen[name]}"), cb

    def _norm_in_step(self):
        """Whether the optimiser's step may take the gradient norm in its own pass (Optimizer.step_if_finite):
        no clipping, and it updates exactly the model's parameters in model order, so that its norm is the
        same sum as F.grad_norm over the model's gradients."""
        if self.clip_grad_norm is not None:
            return False
        optimizer, fused = self._fused_norm_for
        if optimizer is not self.optimizer:
            fused = isinstance(self.optimizer, Optimizer) and [id(p) for g in self.optimizer.param_groups
                                                               for p in g["params"]] == [id(p) for p in self._params]
            self._fused_norm_for = (self.optimizer, fused)
        return fused

    def _step_plan(self):
        """StepPlan.of(model, loss_fn), checked again only when the network may have changed (_structure)."""
        if not _Mode.enabled or _Mode.tracer is not None:  # recording off, or an export tracing the step
            return None
        key = (_structure.version, self.model, self.loss_fn)
        if not (self._plan_key[0] == key[0] and self._plan_key[1] is key[1] and self._plan_key[2] is key[2]):
            self._plan, self._plan_key = StepPlan.of(self.model, self.loss_fn), key
        return self._plan

    def _first_non_finite_gradient(self):
        # Backward runs from the output towards the input, so the last parameter in model order with a
        # non-finite gradient is the first one that went non-finite.
        bad = [name for name, p in self.model.named_parameters() if p.grad is not None and not np.isfinite(p.grad).all()]
        return bad[-1] if bad else None

    def train_step(self, x, y, epoch=0, step=0):
        """One forward, backward and optimiser step on the batch (x, y); returns (mean loss, number of
        correct predictions). Under MPI (``self.distributed``) x, y is the global batch: this rank works on
        its slice and the gradients, loss and counts are combined over the ranks."""
        model, dist = self.model, self.distributed
        for p in self._params:
            p.grad = None
        total = len(x)
        if dist is not None:
            lo, hi = dist.shard(total)
            x, y = x[lo:hi], y[lo:hi]
        count = len(x)
        loss, loss_value, correct = None, 0.0, 0
        # The commonest networks run a step planned ahead, without recording a graph (step_plan.py): forward,
        # loss and backward in one kernel call, the gradients written only when the loss is finite
        plan = self._step_plan() if dist is None and not self.penalties and count else None
        planned = plan.run(x, y) if plan is not None else None
        if planned is not None:
            loss_value, correct = planned[0], planned[1] if self._counts_correct else 0
        elif count:
            logits = _output(model, model(Tensor(x)))
            loss = self.loss_fn(logits, y)
            loss_value = float(loss)
            if self._counts_correct:
                correct = int((logits.data.argmax(axis=1) == class_labels(y)).sum())
        if dist is not None:  # every rank takes the same decisions below from the same global values
            loss_value, correct = dist.sum(loss_value * count) / total, dist.sum(correct)
        for penalty in self.penalties:
            term = penalty(model)
            loss_value += float(term)
            if loss is not None:
                loss = loss + term
        if not math.isfinite(loss_value):
            where = first_non_finite_module(model, x) if count else None
            raise NonFiniteError(f"loss became {loss_value} at epoch {epoch}, step {step}"
                                 + (f": first non-finite output in layer {where}" if where else ""))
        if dist is not None:  # the ranks' gradients are summed bucket by bucket while backward runs
            with dist.averaging_gradients(self._params, count, total):
                if loss is not None:
                    loss.backward()
        elif loss is not None:  # (a planned step has written its gradients)
            loss.backward()
        if self._norm_in_step():  # the norm, and the step only when it is finite, in one pass
            self.last_grad_norm = self.optimizer.step_if_finite()
        else:
            grads = [p.grad for p in self._params if p.grad is not None]
            if self.clip_grad_norm is not None:
                self.last_grad_norm = F.clip_grad_norm(grads, self.clip_grad_norm)
            else:
                self.last_grad_norm = F.grad_norm(grads)
            if math.isfinite(self.last_grad_norm):
                self.optimizer.step()
        if not math.isfinite(self.last_grad_norm):  # no step was taken
            raise NonFiniteError(f"gradient became non-finite at epoch {epoch}, step {step}: first in "
                                 f"layer parameter '{self._first_non_finite_gradient()}'")
        return loss_value, correct

    def fit(self, train_data, val_data=None, epochs=1):
        """Trains from ``self.epoch`` up to ``epochs``; returns the list of EpochMetrics (also ``history``)."""
        if epochs < 1:
            raise ValueError(f"epochs must be >= 1, got {epochs}")
        self.stop_training = False
        states, self._callback_states = self._callback_states, {}
        for key, cb in self._keyed_callbacks():
            if key in states:
                cb.load_state_dict(states[key])
        for cb in self.callbacks:
            cb.on_train_begin(self)
        while self.epoch < epochs and not self.stop_training:
            epoch = self.epoch + 1
            for cb in self.callbacks:
                cb.on_epoch_begin(self, epoch)
            self.model.train()
            partial, self._partial = self._partial or {}, None
            total_loss, correct, seen = partial.get("loss", 0.0), partial.get("correct", 0), partial.get("seen", 0)
            done_steps, earlier_seconds = partial.get("step", 0), partial.get("seconds", 0.0)
            start = time.perf_counter()
            for step, (x, y) in enumerate(train_data, start=done_steps + 1):
                loss, c = self.train_step(x, y, epoch, step)
                total_loss += loss * len(x)
                correct += c
                seen += len(x)
                for cb in self.callbacks:
                    cb.on_batch_end(self, epoch, step, loss, len(x))
                if self.stop_training:  # a callback stopped mid-epoch: this epoch ends with this step
                    break
                interrupt = self._interrupt
                if self.distributed is not None:  # all ranks must stop after the same step
                    interrupt = self.distributed.sum(int(interrupt)) > 0
                if interrupt:
                    self._interrupt = False
                    self._partial = {"loss": total_loss, "correct": correct, "seen": seen, "step": step,
                                     "seconds": earlier_seconds + time.perf_counter() - start}
                    raise TrainingInterrupted(epoch, step)
            seconds = earlier_seconds + time.perf_counter() - start
            metrics = EpochMetrics(epoch, total_loss / max(seen, 1),
                                   correct / max(seen, 1) if self._counts_correct else math.nan,
                                   lr=self.optimizer.param_groups[0]["lr"], seconds=seconds,
                                   samples_per_second=seen / seconds if seconds > 0 else 0.0)
            if val_data is not None:
                ev = evaluate(self.model, val_data, self.loss_fn, self.num_classes, metrics=self.metrics)
                metrics.val_loss, metrics.val_accuracy = ev.loss, ev.accuracy
                metrics.extra.update(ev.scalars("val_"))
            if self.scheduler is not None:
                self.scheduler.step()
            self.epoch = epoch
            self.history.append(metrics)
            for cb in self.callbacks:
                cb.on_epoch_end(self, metrics)
        for cb in self.callbacks:
            cb.on_train_end(self, self.history)
        return self.history
