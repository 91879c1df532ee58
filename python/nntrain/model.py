"""``nntrain.Model``: the high-level object of the teaching material -- PaddlePaddle hapi's names, the behaviour
Keras users expect -- over ``Trainer``, the one training loop (this file holds no second copy of it).

    model = nntrain.Model(MyMLP())
    model.prepare(optim.Adam(model.parameters(), lr=1e-3), nn.CrossEntropyLoss(), metric.Accuracy())
    history = model.fit(train_set, eval_data=val_set, epochs=10, batch_size=64)  # {'loss': [...], 'acc': [...], ...}
    model.evaluate(test_set, batch_size=64)     # {'loss': 0.21, 'acc': 0.94}
    model.predict(images, batch_size=64)        # the network's outputs, one NumPy array (N, classes)
    model.save("out/mlp")                       # out/mlp.safetensors (weights), out/mlp.optim.safetensors
    model.load("out/mlp")                       # the weights, and what resuming needs: optimiser, epochs, data order

Data is a map-style data set -- batched here by a DataLoader made with ``batch_size``, ``shuffle``,
``drop_last`` and ``num_workers`` -- or a DataLoader (any re-iterable of (inputs, labels) batches with a
length), used as it is. Float inputs are cast to the network's dtype: a data set handing out float64 arrays
trains a float32 network.

Successive ``fit`` calls continue: each trains ``epochs`` more, and the order of the data sets' examples
continues too (the loaders made here resume one generator seeded by ``seed``). So fit(epochs=2) twice gives
the weights of fit(epochs=4), and so does fit(epochs=2), save, load into a fresh Model, fit(epochs=2).
"""

import contextlib
import math
import os
import sys

import numpy as np

from . import checkpoint as ckpt
from ._tensor import Tensor
from .autograd.grad_mode import no_grad
from .data import DataLoader
from .lr_finder import lr_find
from .model_args import (callback_list, check_loss, check_optimizer, check_positive, check_verbose, describe, kind,
                         metric_list)
from .model_summary import summary
from .nn.module import Module
from .progress import Progress, console
from .train import Trainer, evaluate as evaluate_network

WEIGHTS, TRAINING_STATE = ".safetensors", ".optim.safetensors"


class NotPreparedError(ValueError, RuntimeError):
    """fit, evaluate or lr_find before ``prepare`` gave what they need. A RuntimeError, as Keras raises for
    fit before compile, and a ValueError, as every other misuse here."""


class Model:
    """Trains, evaluates, predicts with, saves and loads ``network`` (an nn.Module); ``seed`` fixes the order
    in which the loaders made here shuffle data sets (and the random transforms' per-example keys)."""

    def __init__(self, network, seed=0):
        if not isinstance(network, Module):
            raise TypeError(f"Model: network must be an nntrain.nn.Module, got {type(network).__name__}")
        self.network, self.seed = network, seed
        self.optimizer, self.loss, self.metrics, self.trainer = None, None, [], None
        self._prepared = False
        self._loader_state = None  # where the data order of the loaders made here continues
        self._pending = None       # a training state loaded before prepare; prepare applies it
        self._input_shape = None   # one example's shape, from the last batch seen (summary's default)

    def parameters(self):
        return self.network.parameters()

    def prepare(self, optimizer=None, loss=None, metrics=None):
        """Sets the optimiser, the loss -- a module such as ``nn.CrossEntropyLoss()`` or a function of (outputs,
        labels) -- and ``metrics``: one nntrain.metric object or a list. Without an optimiser the model can
        evaluate and predict; without a loss, only predict. Training starts afresh: epochs count from 0."""
        if optimizer is not None:
            check_optimizer(optimizer, self.network)
        if loss is not None:
            check_loss(loss)
        self.optimizer, self.loss, self.metrics = optimizer, loss, metric_list(metrics)
        self._prepared = True
        self.trainer = None if optimizer is None or loss is None else \
            Trainer(self.network, optimizer, loss, metrics=self.metrics)
        if self._pending is not None and self.trainer is not None:
            pending, self._pending = self._pending, None
            self._restore(pending)

    def fit(self, train_data, eval_data=None, batch_size=1, epochs=1, shuffle=True, drop_last=False, verbose=1,
            callbacks=None, num_workers=0):
        """Trains ``epochs`` more epochs on ``train_data``, measuring the loss and metrics on ``eval_data``
        after each; returns their history as Keras does, a dict of lists: ``loss`` and ``acc`` (training; acc
        when an Accuracy is among the metrics), ``val_loss`` and ``val_<name>`` of every metric (with
        eval_data), and ``lr``. ``callbacks``: nntrain.callbacks objects (EarlyStopping, ModelCheckpoint...).
        verbose 0 is silent, 1 shows `nntrain train`'s progress bar (on a terminal) and a line per epoch, 2
        the lines alone."""
        trainer = self._ready("fit", optimizer=True)
        check_positive("epochs", epochs)
        check_verbose(verbose)
        callbacks = callback_list(callbacks)
        train, made = self._loader(train_data, "fit", "train_data", batch_size, shuffle, drop_last, num_workers)
        if made and self._loader_state is not None:
            train.load_state_dict(self._loader_state)
        val = None if eval_data is None else \
            self._loader(eval_data, "fit", "eval_data", batch_size, False, False, num_workers)[0]
        before, total = len(trainer.history), trainer.epoch + epochs
        shown = []
        if verbose:
            bar = verbose == 1 and sys.stderr.isatty()
            shown = [Progress(len(train), total, show_bar=bar, show_lines=True).callback]
        trainer.callbacks = shown + callbacks
        try:
            trainer.fit(self._batches(train, "fit: train_data"),
                        None if val is None else self._batches(val, "fit: eval_data"), epochs=total)
        finally:
            trainer.callbacks = callbacks  # their states go into save(); the progress display has none
        if made:
            self._loader_state = _between_epochs(train)
        return self._history(trainer.history[before:], eval_data is not None)

    def evaluate(self, eval_data, batch_size=1, verbose=0, num_workers=0):
        """The mean loss and every metric on ``eval_data``, in eval mode: ``{'loss': 0.21, 'acc': 0.94, ...}``,
        each under the name its metric gives (per-class values as arrays). verbose=1 prints them on a line."""
        if self.loss is None:
            self._ready("evaluate", optimizer=False)
        check_verbose(verbose)
        loader, _ = self._loader(eval_data, "evaluate", "eval_data", batch_size, False, False, num_workers)
        ev = evaluate_network(self.network, self._batches(loader, "evaluate: eval_data"), self.loss,
                              metrics=self.metrics)
        out = {"loss": ev.loss}
        out.update({k: float(v) if np.ndim(v) == 0 else v for k, v in ev.metrics.items()})
        if verbose:
            console().print("evaluate  " + "  ".join(f"{k} {v:.4f}" for k, v in out.items() if np.ndim(v) == 0)
                            + f"  ({ev.samples:,} examples)")
        return out

    def predict(self, test_data, batch_size=1, num_workers=0):
        """The network's outputs, in eval mode, as one NumPy array (N, ...) in the order of ``test_data``: an
        array (or Tensor) of inputs (N, ...), a data set of inputs or of (input, label) examples, or a
        DataLoader of either."""
        if isinstance(test_data, Tensor):
            test_data = test_data.data
        if isinstance(test_data, np.ndarray):
            check_positive("batch_size", batch_size)
            if test_data.ndim < 1:
                raise ValueError("Model.predict: test_data is a scalar; expected inputs with a leading batch axis")
            batches = (test_data[i:i + batch_size] for i in range(0, len(test_data), batch_size))
        else:
            loader, _ = self._loader(test_data, "predict", "test_data", batch_size, False, False, num_workers)
            batches = (b[0] if isinstance(b, (tuple, list)) else b for b in loader)
        outputs = []
        with _eval_mode(self.network), no_grad():
            for x in batches:
                out = self.network(Tensor(self._inputs(x, "Model.predict: test_data")))
                if not isinstance(out, Tensor):
                    raise TypeError(f"Model.predict: {type(self.network).__name__}.forward returned "
                                    f"{type(out).__name__}, expected a Tensor")
                outputs.append(out.data)
        if not outputs:
            raise ValueError("Model.predict: test_data holds no examples")
        return np.concatenate(outputs)

    def save(self, path, training=True):
        """Writes ``<path>.safetensors``: the weights under PyTorch's key names (``nntrain.checkpoint``). With
        ``training`` and a prepared optimiser, also ``<path>.optim.safetensors``: the optimiser's state, the
        epochs done and their history, the callbacks' states and the data order -- what ``load`` needs for the
        next fit to continue exactly. Each file is written atomically."""
        base = _base(path)
        if os.path.dirname(base):
            os.makedirs(os.path.dirname(base), exist_ok=True)
        ckpt.save_weights(self.network, base + WEIGHTS)
        state = base + TRAINING_STATE
        if training and self.trainer is not None:
            ckpt.save_checkpoint(state, None, self.optimizer, trainer=self.trainer.state_dict(),
                                 loader=self._loader_state)
        elif os.path.exists(state):  # a stale training state would be resumed with these weights
            os.unlink(state)

    def load(self, path, reset_optimizer=False):
        """Reads ``<path>.safetensors`` into the network (nntrain's weights or a PyTorch state_dict saved with
        safetensors) and, unless ``reset_optimizer`` or the file is missing, ``<path>.optim.safetensors``:
        optimiser, epochs and data order, so the next fit continues as if training had never stopped. Loaded
        before prepare, that state waits for prepare's optimiser."""
        base = _base(path)
        weights = base + WEIGHTS
        state = ckpt.load_weights(weights)
        try:
            self.network.load_state_dict(state)
        except ValueError as e:
            raise ckpt.CheckpointError(f"{weights}: does not fit this network ({e})") from None
        training = base + TRAINING_STATE
        self._pending = None
        if reset_optimizer or not os.path.exists(training):
            return
        saved = ckpt.load_checkpoint(training)
        if self.trainer is None:
            self._pending = saved
        else:
            self._restore(saved)

    def summary(self, input_size=None, dtype=None, batch_size=1):
        """The Layer | Input Shape | Output Shape | Param # table (``nntrain.summary``; ``str()`` renders it)
        for inputs of ``input_size``, one example's shape such as (1, 28, 28); by default the shape of the
        last data the model saw."""
        if input_size is None:
            if self._input_shape is None:
                raise ValueError("Model.summary: give input_size, the shape of one example such as (1, 28, 28) "
                                 "(no data seen yet to take it from)")
            input_size = self._input_shape
        return summary(self.network, (input_size,) if isinstance(input_size, int) else input_size, batch_size, dtype)

    def lr_find(self, train_data, batch_size=64, shuffle=True, num_workers=0, **options):
        """The learning-rate range test (``nntrain.lr_find``: options start_lr, end_lr, num_steps, beta,
        diverge) with this model's optimiser and loss over batches of ``train_data``; returns its result
        (``.suggestion``, ``.plot(path)``). Weights, optimiser and data order are put back afterwards. The
        default batch is 64, not fit's 1: the test reads the loss of single batches, too noisy at size 1."""
        self._ready("lr_find", optimizer=True)
        loader, _ = self._loader(train_data, "lr_find", "train_data", batch_size, shuffle, True, num_workers)
        return lr_find(self.network, self.optimizer, self._batches(loader, "lr_find: train_data"), self.loss,
                       **options)

    # ---- helpers -------------------------------------------------------------------------------------
    def _ready(self, who, optimizer):
        if not self._prepared:
            raise NotPreparedError(f"Model.{who}: call prepare(optimizer, loss, metrics) first")
        if optimizer and self.optimizer is None:
            raise NotPreparedError(f"Model.{who}: no optimizer; give one to prepare, e.g. "
                                   "prepare(optim.Adam(model.parameters()), nn.CrossEntropyLoss())")
        if self.loss is None:
            raise NotPreparedError(f"Model.{who}: no loss; give one to prepare, e.g. "
                                   "prepare(optimizer, nn.CrossEntropyLoss())")
        return self.trainer

    def _loader(self, data, who, what, batch_size, shuffle, drop_last, num_workers):
        """(loader, made here): a DataLoader over a data set, or the loader given."""
        if kind(data, f"Model.{who}: {what}") == "loader":
            return data, False
        return DataLoader(data, batch_size, shuffle, drop_last, seed=self.seed, num_workers=num_workers), True

    def _batches(self, loader, who):
        return _Batches(loader, self, f"Model.{who}")

    def _inputs(self, x, who):
        """A batch of inputs as the network takes it: a float array of its dtype."""
        x = x.data if isinstance(x, Tensor) else np.asarray(x)
        if x.dtype.kind != "f":
            raise TypeError(f"{who}: inputs are {x.dtype} arrays, the network takes {self.network.dtype}; convert "
                            "them in the data set (e.g. np.float32 in [0, 1], or transforms.ToArray())")
        if x.dtype != self.network.dtype:
            x = x.astype(self.network.dtype)
        self._input_shape = x.shape[1:]
        return x

    def _restore(self, saved):
        optimizer, prepared_with = self.optimizer, type(self.optimizer).__name__
        if saved.optimizer_state is None or saved.optimizer_type != prepared_with:
            raise ckpt.CheckpointError(f"{saved.path}: holds the state of {saved.optimizer_type or 'no optimizer'}, "
                                       f"but the model was prepared with {prepared_with}")
        try:
            optimizer.load_state_dict(saved.optimizer_state)
            self.trainer.load_state_dict(saved.meta["trainer"])
        except (KeyError, TypeError, ValueError) as e:
            reason = " ".join(str(e).split())
            raise ckpt.CheckpointError(f"{saved.path}: does not fit this model's optimiser ({reason})") from None
        self._loader_state = saved.meta.get("loader")

    def _history(self, epochs, evaluated):
        names = set()
        for m in self.metrics:
            names.update([m.name()] if isinstance(m.name(), str) else m.name())
        out = {"loss": [m.train_loss for m in epochs]}
        if "acc" in names:
            out["acc"] = [m.train_accuracy for m in epochs]
        if evaluated:
            out["val_loss"] = [m.val_loss for m in epochs]
            if "acc" in names:
                out["val_acc"] = [m.val_accuracy for m in epochs]
            for key in dict.fromkeys(k for m in epochs for k in m.extra):
                out[key] = [m.extra.get(key, math.nan) for m in epochs]
        out["lr"] = [m.lr for m in epochs]
        return out


class _Batches:
    """A loader's batches as the Trainer takes them: (inputs, labels) pairs, the inputs float arrays of the
    network's dtype. Everything else (len, state_dict for lr_find) is the loader's."""

    def __init__(self, loader, model, who):
        self.loader, self.model, self.who = loader, model, who

    def __len__(self):
        return len(self.loader)

    def __getattr__(self, name):
        return getattr(self.loader, name)

    def __iter__(self):
        for batch in self.loader:
            if not isinstance(batch, (tuple, list)) or len(batch) != 2:
                raise TypeError(f"{self.who}: a batch is {describe(batch)}, expected (inputs, labels); does the "
                                "data set's __getitem__ return (x, label)?")
            x, y = batch
            yield self.model._inputs(x, self.who), (y.data if isinstance(y, Tensor) else np.asarray(y))


def _between_epochs(loader):
    """The loader's state as at the end of an epoch, also when training stopped inside one (a callback):
    the next fit starts a fresh epoch, as an uninterrupted run would after that one."""
    state = loader.state_dict()
    if state["batch"]:
        state = dict(state, epoch=state["epoch"] + 1, rng_state=loader.rng.bit_generator.state, batch=0)
    return state


def _base(path):
    path = os.fspath(path)
    for suffix in (TRAINING_STATE, WEIGHTS):
        if path.endswith(suffix):
            return path[:-len(suffix)]
    return path


@contextlib.contextmanager
def _eval_mode(network):
    was_training = network.training
    network.eval()
    try:
        yield
    finally:
        network.train(was_training)
