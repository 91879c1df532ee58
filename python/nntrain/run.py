"""A training run on disk: everything `nntrain train` does except talking to the terminal.

A run directory holds
    config.toml              the fully resolved run (enough to repeat it, or to resume it)
    metrics.csv              one row per epoch: train/val loss and accuracy, learning rate, time, samples/s
    model.safetensors        the weights under PyTorch-style keys, plus what predicting needs (JSON metadata:
                             input shape, classes, class names, normalisation)
    checkpoint.safetensors   model, optimiser, schedule, data order and random state: an exact resume point
    curves.png               loss and accuracy (or MAE, RMSE, R2), train against validation (with matplotlib)
    grad_norms.csv, .png     with --log-grad-norms N: each layer's gradient and weight norms every N steps
    tensorboard/             with --tensorboard: TensorBoard event files

Every file is written atomically, so a crash at any moment leaves the previous version or the new one.
"""

import csv
import io
import os
import time

import numpy as np

from . import checkpoint as ckpt
from . import config as cfg
from . import user_model
from .build import build_loss, build_metrics, build_model, build_optimizer, build_penalties, build_scheduler
from .data import DataError, DataLoader, Normalizer
from .data.image_cache import available_memory
from .run_data import eval_batches, load_data
from .train import Callback, EarlyStopping, Trainer, evaluate

CONFIG, METRICS, MODEL, CHECKPOINT, CURVES = ("config.toml", "metrics.csv", "model.safetensors",
                                              "checkpoint.safetensors", "curves.png")
GRAD_NORMS, TENSORBOARD = "grad_norms.csv", "tensorboard"


class RunError(ValueError):
    """A run directory that cannot be used; the message names it."""


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


def start(config, directory=None, distributed=None):
    """A new Run of the resolved ``config`` in ``directory`` (default runs/<timestamp>): the directory is
    created (under MPI by rank 0, every rank learning its name or rank 0's error) and config.toml written."""
    directory = directory or default_run_dir()
    if cfg.is_model_file(config["model"]["preset"]) and not config["model"]["layers"]:
        config = dict(config, model=user_model.record(config["model"]))  # its path and hash, to check later
    if distributed is None:
        directory = prepare_run_dir(directory)
    else:
        outcome = None
        if distributed.is_root:
            try:
                outcome = ("ok", prepare_run_dir(directory))
            except ValueError as e:
                outcome = ("error", str(e))
        kind, directory = distributed.broadcast(outcome)
        if kind == "error":
            raise RunError(directory)
    run = Run(config, directory, distributed)
    if run.writes:
        run.write_config()
    return run


def resume(directory, overrides=None, distributed=None):
    """The Run in ``directory`` restored from its checkpoint, configured as it was but for ``overrides``
    (settings that change how it proceeds, such as the epoch total); a RunError if nothing is left to do."""
    config_path = os.path.join(directory, CONFIG)
    if not os.path.isfile(config_path):
        raise RunError(f"{directory}: not a run directory (no {CONFIG})")
    run = Run(cfg.resolve(config_path, overrides), directory, distributed)
    run.resume()
    epochs = run.config["training"]["epochs"]
    if run.trainer.epoch >= epochs and not run.steps_done():
        raise RunError(f"{directory}: already trained {run.trainer.epoch} epochs; give --epochs N with N > "
                       f"{run.trainer.epoch} to train on")
    return run


class Run:
    """The objects of one training run, built from a resolved configuration."""

    def __init__(self, config, directory, distributed=None):
        self.config, self.directory, self.distributed = config, directory, distributed
        # Under MPI only rank 0 writes files; the others train their slices silently.
        self.writes = distributed is None or distributed.is_root
        self.rng = np.random.default_rng(config["seed"])
        # Each rank keeps its own copy of cached images: the ranks on one host share its memory.
        share = 1 if distributed is None else distributed.host_ranks()  # collective: every rank asks here
        self.splits, self.normalizer = load_data(config, memory=lambda: available_memory() // share)
        splits = self.splits
        self.model = build_model(config, splits.input_shape, splits.classes, self.rng)
        self.optimizer = build_optimizer(config, self.model.parameters())
        self.scheduler = build_scheduler(config, self.optimizer)
        r = config["regularization"]
        d = config["data"]
        # Under MPI, data workers are threads: forking an MPI process is not safe with every MPI library.
        self.worker_type = "process" if distributed is None else "thread"
        self.loader = DataLoader(splits.train, batch_size=d["batch_size"], shuffle=d["shuffle"],
                                 drop_last=d["drop_last"], seed=config["seed"], collate_fn=splits.collate_fn,
                                 num_workers=d["workers"], worker_type=self.worker_type)
        callbacks = []
        if self.writes and directory is not None:
            no_accuracy = ("train_accuracy", "val_accuracy") if self.regression else ()
            callbacks = [MetricsCSV(self.path(METRICS), leave_out=no_accuracy)] + self.diagnostics() + \
                [CheckpointEachEpoch(self)]
        if config["training"]["early_stopping"]:
            callbacks.append(EarlyStopping(patience=config["training"]["early_stopping"]))
        self.trainer = Trainer(self.model, self.optimizer, build_loss(config), self.scheduler,
                               clip_grad_norm=r["clip_grad_norm"] or None, penalties=build_penalties(config),
                               callbacks=callbacks, num_classes=splits.classes, distributed=distributed,
                               metrics=build_metrics(config, splits.classes))
        if distributed is not None:
            distributed.broadcast_model(self.model)

    def diagnostics(self):
        """The callbacks that show what happens inside: gradient norms, TensorBoard."""
        from .callbacks import GradNormLogger

        diag = self.config["diagnostics"]
        callbacks = []
        if diag["grad_norms"]:
            callbacks.append(GradNormLogger(self.path(GRAD_NORMS), every=diag["grad_norms"]))
        if diag["tensorboard"]:
            from .tensorboard import TensorBoard

            try:
                callbacks.append(TensorBoard(self.path(TENSORBOARD), every=diag["grad_norms"] or 10,
                                             grad_norms=bool(diag["grad_norms"])))
            except ImportError as e:
                raise cfg.ConfigError(f"'diagnostics.tensorboard': {e}") from None
        return callbacks

    @property
    def regression(self):
        return self.config["training"]["task"] == "regression"

    # ---- files ---------------------------------------------------------------------------------------
    def path(self, name):
        return os.path.join(self.directory, name)

    def write_config(self):
        ckpt.atomic_write_bytes(self.path(CONFIG), cfg.to_toml(self.config).encode())

    def model_meta(self):
        splits = self.splits
        return {"input_shape": list(splits.input_shape), "classes": splits.classes,
                "class_names": splits.class_names, "dataset": splits.name,
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
    def steps_done(self):
        """Steps of the current epoch done before an interruption (0 between epochs)."""
        return (self.trainer.state_dict().get("partial") or {}).get("step", 0)

    def fit(self, extra_callbacks=()):
        self.trainer.callbacks.extend(extra_callbacks)
        return self.trainer.fit(self.loader, self.batches("val"), epochs=self.config["training"]["epochs"])

    def batches(self, part):
        """The split ``part`` as ``train.evaluate`` takes it (None if the data has no such split)."""
        return eval_batches(getattr(self.splits, part), self.splits.collate_fn, self.config["data"]["workers"],
                            self.worker_type)

    def evaluate(self, part):
        data = self.batches(part)
        return None if data is None else evaluate(self.model, data, self.trainer.loss_fn, self.splits.classes,
                                                  metrics=self.trainer.metrics)

    def plot_curves(self):
        """Writes curves.png; returns False when matplotlib is not installed."""
        from .plots import plot_curves

        return plot_curves(self.trainer.history, self.path(CURVES), ("mae", "rmse", "r2") if self.regression else None)


class MetricsCSV(Callback):
    """Rewrites metrics.csv (atomically) with every epoch so far at the end of each epoch: a column for each
    name of the epochs' metrics (EpochMetrics.as_dict) but those in ``leave_out``."""

    def __init__(self, path, leave_out=()):
        self.path, self.leave_out = path, set(leave_out)

    def on_epoch_end(self, trainer, metrics):
        out = io.StringIO()
        rows = [{k: v for k, v in m.as_dict().items() if k not in self.leave_out} for m in trainer.history]
        fields = list(dict.fromkeys(k for row in rows for k in row))  # each epoch's names, in order of appearance
        writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()})
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
    """Rows of a metrics.csv as dicts of floats (epoch as int; a value an epoch did not measure is NaN)."""
    with open(path, newline="") as f:
        return [{k: (int(v) if k == "epoch" else float(v or "nan")) for k, v in row.items()}
                for row in csv.DictReader(f)]


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
    try:  # a run written before a setting existed has its default
        config = cfg.merge(cfg.default_config(), run_meta["config"])
        check(config)
    except cfg.ConfigError as e:
        raise RunError(f"{weights}: its stored configuration is invalid ({e})") from None
    run_meta = dict(run_meta, config=config)
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
           "prepare_run_dir", "default_run_dir", "load_data", "resume", "start"]
