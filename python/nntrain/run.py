"""A training run on disk: everything `nntrain train` does except talking to the terminal.

A run directory holds
    config.toml              the fully resolved run (enough to repeat it, or to resume it)
    metrics.csv              one row per epoch: train/val loss and accuracy, learning rate, time, samples/s
    model.safetensors        the weights under PyTorch-style keys, plus what predicting needs (JSON metadata:
                             input shape, classes, class names, normalisation)
    checkpoint.safetensors   model, optimiser, schedule, data order and random state: an exact resume point
    curves.png               loss and accuracy, train against validation (when matplotlib is installed)

Every file is written atomically, so a crash at any moment leaves the previous version or the new one.
"""

import csv
import io
import os
import time

import numpy as np

from . import checkpoint as ckpt
from . import config as cfg
from .build import build_model, build_optimizer, build_penalties, build_scheduler
from .data import DataError, DataLoader, Normalizer, find_dataset, load_path, normalise, split
from .nn import CrossEntropyLoss
from .train import Callback, EarlyStopping, Trainer, evaluate

CONFIG, METRICS, MODEL, CHECKPOINT, CURVES = ("config.toml", "metrics.csv", "model.safetensors",
                                              "checkpoint.safetensors", "curves.png")
METRIC_FIELDS = ("epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr", "seconds",
                 "samples_per_second")


class RunError(ValueError):
    """A run directory that cannot be used; the message names it."""


def load_data(config):
    """(splits with train, val and test, Normalizer or None) as the configuration asks."""
    d = config["data"]
    splits = load_path(d["path"]) if d["path"] else find_dataset(d["name"])
    if splits.val is None and d["val_split"] > 0:
        train, val = split(splits.train, d["val_split"], seed=config["seed"])
        splits.train, splits.val = train, val
    normalizer = None
    if d["normalize"]:
        splits, normalizer = normalise(splits)
    return splits, normalizer


def prepare_run_dir(path):
    """Creates the run directory (and parents); an existing run or an unwritable place is a RunError."""
    path = os.fspath(path)
    if os.path.exists(os.path.join(path, CHECKPOINT)):
        raise RunError(f"{path}: already holds a run; use --resume {path} to continue it, or choose another --out")
    try:
        os.makedirs(path, exist_ok=True)
        probe = os.path.join(path, ".nntrain-write-test")
        with open(probe, "wb"):
            pass
        os.unlink(probe)
    except OSError as e:
        raise RunError(f"{path}: cannot write the run directory ({e.strerror})") from None
    return path


def default_run_dir():
    return os.path.join("runs", time.strftime("%Y%m%d-%H%M%S"))


class Run:
    """The objects of one training run, built from a resolved configuration."""

    def __init__(self, config, directory, distributed=None):
        self.config, self.directory, self.distributed = config, directory, distributed
        # Under MPI only rank 0 writes files; the others train their slices silently.
        self.writes = distributed is None or distributed.is_root
        self.rng = np.random.default_rng(config["seed"])
        self.splits, self.normalizer = load_data(config)
        train = self.splits.train
        self.model = build_model(config, train.input_shape, train.classes, self.rng)
        self.optimizer = build_optimizer(config, self.model.parameters())
        self.scheduler = build_scheduler(config, self.optimizer)
        r = config["regularization"]
        d = config["data"]
        self.loader = DataLoader(train, batch_size=d["batch_size"], shuffle=d["shuffle"], drop_last=d["drop_last"],
                                 seed=config["seed"])
        callbacks = [MetricsCSV(os.path.join(directory, METRICS)), CheckpointEachEpoch(self)] if self.writes else []
        if config["training"]["early_stopping"]:
            callbacks.append(EarlyStopping(patience=config["training"]["early_stopping"]))
        self.trainer = Trainer(self.model, self.optimizer, CrossEntropyLoss(r["label_smoothing"]), self.scheduler,
                               clip_grad_norm=r["clip_grad_norm"] or None, penalties=build_penalties(config),
                               callbacks=callbacks, num_classes=train.classes, distributed=distributed)
        if distributed is not None:
            distributed.broadcast_model(self.model)

    # ---- files ---------------------------------------------------------------------------------------
    def path(self, name):
        return os.path.join(self.directory, name)

    def write_config(self):
        ckpt.atomic_write_bytes(self.path(CONFIG), cfg.to_toml(self.config).encode())

    def model_meta(self):
        train = self.splits.train
        return {"input_shape": list(train.input_shape), "classes": train.classes,
                "class_names": train.class_names, "dataset": self.splits.name,
                "normalizer": None if self.normalizer is None else
                {k: v.tolist() for k, v in self.normalizer.state_dict().items()},
                "config": self.config}

    def save_checkpoint(self):
        ckpt.save_checkpoint(self.path(CHECKPOINT), self.model, self.optimizer, self.scheduler,
                             trainer=self.trainer.state_dict(), loader=self.loader.state_dict(),
                             rng=self.rng.bit_generator.state)

    def save_model(self):
        ckpt.save_weights(self.model, self.path(MODEL), meta=self.model_meta())

    def resume(self):
        """Restores model, optimiser, schedule, trainer, data order and random state from the checkpoint."""
        state = ckpt.load_checkpoint(self.path(CHECKPOINT))
        try:
            self.model.load_state_dict(state.model_state)
            if state.optimizer_state is not None:
                self.optimizer.load_state_dict(state.optimizer_state)
            if self.scheduler is not None and state.scheduler_state is not None:
                self.scheduler.load_state_dict(state.scheduler_state)
            self.trainer.load_state_dict(state.meta["trainer"])
            self.loader.load_state_dict(state.meta["loader"])
            self.rng.bit_generator.state = state.meta["rng"]
        except (KeyError, TypeError, ValueError) as e:
            raise RunError(f"{state.path}: does not match this run's configuration ({e})") from None
        if self.distributed is not None:
            self.distributed.broadcast_model(self.model)

    # ---- the work ------------------------------------------------------------------------------------
    def fit(self, extra_callbacks=()):
        self.trainer.callbacks.extend(extra_callbacks)
        return self.trainer.fit(self.loader, self.splits.val, epochs=self.config["training"]["epochs"])

    def evaluate(self, part):
        data = getattr(self.splits, part)
        return None if data is None else evaluate(self.model, data, self.trainer.loss_fn, data.classes)

    def plot_curves(self):
        """Writes curves.png; returns False when matplotlib is not installed."""
        from .plots import plot_curves

        return plot_curves(self.trainer.history, self.path(CURVES))


class MetricsCSV(Callback):
    """Rewrites metrics.csv (atomically) with every epoch so far at the end of each epoch."""

    def __init__(self, path):
        self.path = path

    def on_epoch_end(self, trainer, metrics):
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=METRIC_FIELDS, lineterminator="\n")
        writer.writeheader()
        for m in trainer.history:
            writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in m.as_dict().items()})
        ckpt.atomic_write_bytes(self.path, out.getvalue().encode())


class CheckpointEachEpoch(Callback):
    """The checkpoint (and the weights) after every epoch: a crash loses at most the epoch in progress."""

    def __init__(self, run):
        self.run = run

    def on_epoch_end(self, trainer, metrics):
        # The weights first: a run directory that has a checkpoint always has a model beside it, even when the
        # process dies between the two writes.
        self.run.save_model()
        self.run.save_checkpoint()


def read_metrics(path):
    """Rows of a metrics.csv as dicts of floats (epoch as int)."""
    with open(path, newline="") as f:
        return [{k: (int(v) if k == "epoch" else float(v)) for k, v in row.items()} for row in csv.DictReader(f)]


def load_trained_model(path):
    """(model, meta) from a run directory or a model.safetensors written by `nntrain train`."""
    from .config import check

    path = os.fspath(path)
    weights = os.path.join(path, MODEL) if os.path.isdir(path) else path
    if os.path.isdir(path) and not os.path.exists(weights):
        raise RunError(f"{path}: no {MODEL} in this directory (is it a run directory?)")
    state, meta = ckpt.load_weights(weights, with_meta=True)
    run_meta = meta.get("run")
    if not isinstance(run_meta, dict) or "config" not in run_meta:
        raise RunError(f"{weights}: has no nntrain run metadata (input shape, classes); "
                       "it was not written by `nntrain train`")
    config = run_meta["config"]
    try:
        check(config)
    except cfg.ConfigError as e:
        raise RunError(f"{weights}: its stored configuration is invalid ({e})") from None
    config = dict(config, model=dict(config["model"], init_from=""))
    model = build_model(config, tuple(run_meta["input_shape"]), run_meta["classes"], np.random.default_rng(0))
    try:
        model.load_state_dict(state)
    except ValueError as e:
        raise RunError(f"{weights}: {e}") from None
    model.eval()
    return model, run_meta


def normalizer_of(meta):
    n = meta.get("normalizer")
    return None if n is None else Normalizer.from_state_dict({k: np.asarray(v, np.float32) for k, v in n.items()})


__all__ = ["Run", "RunError", "DataError", "load_trained_model", "normalizer_of", "read_metrics",
           "prepare_run_dir", "default_run_dir", "load_data"]
