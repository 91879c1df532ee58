"""`nntrain train`: resolve the run, train it with a progress display, leave the run directory behind."""

import json
import signal
import sys
import time
from dataclasses import dataclass
from typing import Callable

import click

from ..progress import Progress
from .common import EXIT_INTERRUPTED, console, data_overrides, fail, threads_option, user_errors

@dataclass(frozen=True)
class Flag:
    """A command-line flag that sets a configuration key. Its type, check and (unless given here) help are
    the key's, from config.SETTINGS: a flag is declared once, in FLAGS."""

    name: str
    key: str
    resumable: bool = False  # may come with --resume: it changes how the run proceeds, not what it computes
    metavar: str = None
    help: str = None
    nargs: int = 1
    flag_value: object = None  # the value of the flag given alone (its value is then optional)
    to_config: Callable = None  # value -> {dotted key: value}, for flags that set more than their key


def _data_settings(value):
    return {f"data.{k}": v for k, v in data_overrides(value).items()}


def _augmentations(value):
    return {"data.augment": [name.strip() for name in value.split(",") if name.strip()]}


FLAGS = (
    Flag("--model", "model.preset", metavar="PRESET|FILE.py:CLASS",
         to_config=lambda v: {"model.preset": v, "model.layers": []}),
    Flag("--data", "data.path", metavar="NAME|PATH", to_config=_data_settings,
         help="digits (embedded), fashion-mnist, mnist, cifar10, or a folder (IDX files, CIFAR-10, or images "
              "in one subfolder per class, optionally under train/ and test/ or val/), .npz or .csv."),
    Flag("--epochs", "training.epochs", resumable=True),
    Flag("--batch-size", "data.batch_size"),
    Flag("--optimizer", "optimizer.name"),
    Flag("--lr", "optimizer.lr"),
    Flag("--weight-decay", "optimizer.weight_decay"),
    Flag("--schedule", "schedule.name"),
    Flag("--seed", "seed"),
    Flag("--threads", "threads", resumable=True),
    Flag("--val-split", "data.val_split"),
    Flag("--test-split", "data.test_split"),
    Flag("--image-size", "data.image_size", metavar="H W", nargs=2),
    Flag("--augment", "data.augment", metavar="LIST", to_config=_augmentations),
    Flag("--workers", "data.workers", resumable=True),
    Flag("--skip-bad-images", "data.skip_bad"),
    Flag("--cache-images", "data.cache_images", resumable=True, metavar="[auto|on|off]", flag_value="on"),
    Flag("--init-from", "model.init_from", metavar="FILE.safetensors"),
    Flag("--task", "training.task"),
    Flag("--loss", "training.loss"),
    Flag("--log-grad-norms", "diagnostics.grad_norms", metavar="[N]", flag_value=10),
    Flag("--tensorboard", "diagnostics.tensorboard"),
)


def _param(flag):
    return flag.name.lstrip("-").replace("-", "_")


def flag_options(fn=None, only=None):
    """The click options of FLAGS (or of those named in ``only``), each typed and explained by its configuration
    setting. ``@flag_options`` or ``@flag_options(only=("--model", "--data"))``."""
    from ..config import SETTING

    if fn is None:
        return lambda f: flag_options(f, only)
    for flag in reversed(FLAGS):
        if only is not None and flag.name not in only:
            continue
        setting = SETTING[flag.key]
        help_text = flag.help or setting.help
        if setting.kind is bool:
            option = click.option(flag.name, _param(flag), is_flag=True, default=None, help=help_text)
        else:
            kind = {int: int, float: float}.get(setting.kind, str)
            if flag.nargs > 1:
                kind = int
            elif setting.choices is not None and setting.kind is str:
                kind = click.Choice(setting.choices)
            optional = {} if flag.flag_value is None else {"is_flag": False, "flag_value": flag.flag_value}
            option = click.option(flag.name, _param(flag), type=kind, nargs=flag.nargs, metavar=flag.metavar,
                                  help=help_text, **optional)
        fn = option(fn)
    return fn


def given_flags(values):
    """[(Flag, value)] of the flags on the command line."""
    return [(flag, values[_param(flag)]) for flag in FLAGS if values.get(_param(flag)) is not None]


def overrides(given):
    """The settings the given flags stand for, as a nested dict in the shape of the configuration."""
    from ..config import nested

    flat = {}
    for flag, value in given:
        flat.update(flag.to_config(value) if flag.to_config else {flag.key: list(value) if flag.nargs > 1 else value})
    return nested(flat)


class _InterruptOnSigint:
    """First Ctrl-C: finish the step in progress, then stop cleanly (a checkpoint follows). Second: now."""

    def __init__(self, trainer):
        self.trainer, self.previous, self.pressed = trainer, None, False

    def _handler(self, signum, frame):
        if self.pressed:
            raise KeyboardInterrupt
        self.pressed = True
        self.trainer.request_interrupt()

    def __enter__(self):
        self.previous = signal.signal(signal.SIGINT, self._handler)
        return self

    def __exit__(self, *exc):
        signal.signal(signal.SIGINT, self.previous)




def _result(run, history, seconds, trained_samples):
    out = {"run_dir": run.directory, "epochs": len(history), "seconds": round(seconds, 3),
           "samples_per_second": round(trained_samples / seconds, 1) if seconds > 0 else None}
    last = history[-1]
    out["train"] = {"loss": last.train_loss} if run.regression else {"loss": last.train_loss,
                                                                      "accuracy": last.train_accuracy}
    for part in ("val", "test"):
        ev = run.evaluate(part)
        # every single number the evaluation measured: loss, accuracy, samples, or loss, samples, mae, rmse, r2
        out[part] = None if ev is None else {k: v for k, v in ev.as_dict().items() if not isinstance(v, list)}
    return out


def _score(result, regression):
    """The headline of an evaluation: accuracy, or MAE, RMSE and R2."""
    if regression:
        return f"MAE {result['mae']:.4g}  RMSE {result['rmse']:.4g}  R2 {result['r2']:.4f}"
    return f"accuracy {result['accuracy']:.2%}"


class _ShowWarnings:
    """Training's GradientWarnings (and any other warning) shown as `Warning: ...` lines through ``progress``."""

    def __init__(self, progress):
        self.progress = progress

    def __enter__(self):
        import warnings

        self.caught = warnings.catch_warnings()
        self.caught.__enter__()
        from ..callbacks import GradientWarning

        warnings.simplefilter("always", GradientWarning)
        warnings.showwarning = lambda message, *args, **kwargs: self.progress.warn(" ".join(str(message).split()))
        return self

    def __exit__(self, *exc):
        self.caught.__exit__(*exc)


def _plural(n, noun):
    return f"{n} {noun}" if n == 1 else f"{n} {noun}{'es' if noun.endswith('s') else 's'}"


def _describe(run, dist):
    """What is about to be trained, on what, and where it goes."""
    import nntrain

    splits, config = run.splits, run.config
    out = console()
    if dist is not None:
        out.print(f"data-parallel over {dist.size} MPI ranks, {nntrain.get_num_threads()} threads each")
    sizes = {part: len(getattr(splits, part) or ()) for part in ("train", "val", "test")}
    what = "a custom network" if config["model"]["layers"] else config["model"]["preset"]
    outputs = _plural(splits.classes, "target" if run.regression else "class")
    out.print(f"training {what} on {splits.name}: {sizes['train']:,} train, {sizes['val']:,} val, {sizes['test']:,} "
              f"test examples of {tuple(splits.input_shape)}, {outputs} -> {run.directory}")
    if splits.skipped:
        _, reason = splits.skipped[0]
        count = len(splits.skipped)
        out.print(f"skipped {count:,} unreadable image{'' if count == 1 else 's'} (the first: {reason})")


@click.command("train")
@click.argument("config_file", required=False, metavar="[CONFIG.toml]")
@flag_options
@click.option("--out", "out_dir", metavar="RUNDIR", help="Run directory to create (default runs/<timestamp>).")
@click.option("--resume", "resume_dir", metavar="RUNDIR", help="Continue an interrupted or finished run.")
@click.option("--distributed", is_flag=True,
              help="Data-parallel over MPI ranks (implied under mpiexec); needs nntrain[mpi].")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with the results at the end.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no per-epoch lines.")
@user_errors
def command(config_file, out_dir, resume_dir, distributed, as_json, quiet, **flags):
    """Train a network and write its run directory.

    With no arguments, trains the default MLP on the embedded 8x8 digits and prints the test accuracy.
    Flags override CONFIG.toml, which overrides the defaults; the resolved run is written to
    RUNDIR/config.toml. Ctrl-C stops after the current step and saves a checkpoint; --resume RUNDIR
    continues it to the same weights an uninterrupted run reaches.

    \b
    Examples:
      nntrain train
      nntrain train --model cnn --data fashion-mnist --epochs 5 --out runs/cnn
      nntrain train --model cnn --data photos/ --image-size 64 64 --augment flip,crop --workers 2
      nntrain train my-net.toml --lr 3e-4
      nntrain train --resume runs/cnn --epochs 10
    """
    from .. import config as cfg
    from .. import run as runs
    from ..distributed import Distributed, launched_by_mpi
    from ..train import TrainingInterrupted

    dist = Distributed() if distributed or launched_by_mpi() else None
    if dist is not None and not dist.is_root:
        quiet, as_json = True, False  # only rank 0 talks
    if dist is not None:  # each rank's default share of the cores; the run's own setting may override it
        threads_option(dist.threads_per_rank())
    given = given_flags(flags)
    if resume_dir is not None:
        fixed = [name for name, value in (("CONFIG.toml", config_file), ("--out", out_dir)) if value is not None]
        fixed += [flag.name for flag, _ in given if not flag.resumable]
        if fixed:
            fail(f"--resume continues a run as it was configured; {', '.join(fixed)} cannot change it (only "
                 f"{', '.join(f.name for f in FLAGS if f.resumable)} can)")
        run = runs.resume(resume_dir, overrides(given), dist)
    else:
        run = runs.start(cfg.resolve(config_file, overrides(given)), out_dir, dist)
    if run.config["threads"]:
        threads_option(run.config["threads"])
    talk = not quiet and not as_json
    progress = Progress(len(run.loader), run.config["training"]["epochs"], show_bar=sys.stderr.isatty() and talk,
                        show_lines=talk, steps_done=run.steps_done)
    if talk:
        _describe(run, dist)
    start = time.perf_counter()
    done_before = sum(m.epoch > 0 for m in run.trainer.history)
    try:
        with _InterruptOnSigint(run.trainer), _ShowWarnings(progress):
            history = run.fit([progress.callback])
    except TrainingInterrupted as stop:
        progress.close()
        if not run.writes:
            sys.exit(EXIT_INTERRUPTED)
        run.save_checkpoint()
        click.echo(f"Interrupted at epoch {stop.epoch}, step {stop.step}; checkpoint saved. "
                   f"Continue with: nntrain train --resume {run.directory}", err=True)
        sys.exit(EXIT_INTERRUPTED)
    seconds = time.perf_counter() - start
    if not run.writes:
        return
    run.save_model()
    plotted = run.plot_curves()
    trained = sum(m.samples_per_second * m.seconds for m in history[done_before:])
    result = _result(run, history, seconds, trained)
    if as_json:
        click.echo(json.dumps(result))
        return
    test = result["test"] or result["val"]
    if not quiet:
        if not plotted:
            console().print("(curves.png not written: install matplotlib, e.g. pip install 'nntrain[plot]')")
        which = "test" if result["test"] else "val"
        if test:
            console().print(f"{which} {_score(test, run.regression)}  (loss {test['loss']:.4f})  "
                            f"in {seconds:.1f}s; run saved in {run.directory}")
    elif test:
        click.echo(f"{test['r2' if run.regression else 'accuracy']:.4f}")
