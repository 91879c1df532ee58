"""`nntrain train`: resolve the run, train it with a progress display, leave the run directory behind."""

import json
import os
import signal
import sys
import time

import click

from .common import EXIT_INTERRUPTED, console, data_overrides, fail, threads_option, user_errors

OPTIMIZERS = ("sgd", "momentum", "adagrad", "rmsprop", "adam", "adamw")


def nntrain_threads():
    import nntrain

    return nntrain.get_num_threads()


def _overrides(preset, data, epochs, batch_size, optimizer, lr, weight_decay, seed, threads, val_split, init_from):
    """The settings given as flags, as a nested dict in the shape of the configuration."""
    given = {
        "seed": seed, "threads": threads,
        "data": {**data_overrides(data), "batch_size": batch_size, "val_split": val_split},
        "model": {"preset": preset, "layers": [] if preset is not None else None, "init_from": init_from},
        "optimizer": {"name": optimizer, "lr": lr, "weight_decay": weight_decay},
        "training": {"epochs": epochs},
    }

    def prune(d):
        return {k: (prune(v) if isinstance(v, dict) else v) for k, v in d.items()
                if v is not None and not (isinstance(v, dict) and not prune(v))}

    return prune(given)


class Progress:
    """The terminal side of training: a progress bar per epoch (on a terminal) and a line per epoch."""

    def __init__(self, steps_per_epoch, epochs, show_bar, show_lines):
        from ..train import Callback

        self.steps, self.epochs, self.show_bar, self.show_lines = steps_per_epoch, epochs, show_bar, show_lines
        self.out = console()
        self.bar = None
        progress = self

        class _Callback(Callback):
            def on_epoch_begin(self, trainer, epoch):
                progress.begin(epoch, trainer)

            def on_batch_end(self, trainer, epoch, step, loss, batch_size):
                progress.batch(step, loss, batch_size)

            def on_epoch_end(self, trainer, metrics):
                progress.end(metrics)

            def on_train_end(self, trainer, history):
                progress.close()

        self.callback = _Callback()

    def begin(self, epoch, trainer):
        self.epoch, self.start, self.seen, self.loss_sum = epoch, time.perf_counter(), 0, 0.0
        if self.show_bar:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress as Bar, TextColumn, TimeRemainingColumn

            self.bar = Bar(TextColumn(f"epoch {epoch}/{self.epochs}"), BarColumn(), MofNCompleteColumn(),
                           TextColumn("loss {task.fields[loss]:.4f}  {task.fields[rate]:,.0f} samples/s"),
                           TimeRemainingColumn(), console=console(err=True), transient=True)
            self.bar.start()
            done = (trainer._partial or {}).get("step", 0)
            self.task = self.bar.add_task("train", total=self.steps, completed=done, loss=float("nan"), rate=0.0)

    def batch(self, step, loss, batch_size):
        self.seen += batch_size
        self.loss_sum += loss * batch_size
        if self.bar is not None:
            rate = self.seen / max(time.perf_counter() - self.start, 1e-9)
            self.bar.update(self.task, completed=step, loss=self.loss_sum / self.seen, rate=rate)

    def end(self, m):
        self.close()
        if self.show_lines:
            val = "" if m.val_loss != m.val_loss else f"  val loss {m.val_loss:.4f} acc {m.val_accuracy:6.2%}"
            self.out.print(f"epoch {m.epoch:>3}/{self.epochs}  train loss {m.train_loss:.4f} acc "
                           f"{m.train_accuracy:6.2%}{val}  {m.seconds:6.2f}s  {m.samples_per_second:,.0f} samples/s")

    def close(self):
        if self.bar is not None:
            self.bar.stop()
            self.bar = None


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
    out["train"] = {"loss": last.train_loss, "accuracy": last.train_accuracy}
    for part in ("val", "test"):
        ev = run.evaluate(part)
        out[part] = None if ev is None else {"loss": ev.loss, "accuracy": ev.accuracy, "samples": ev.samples}
    return out


@click.command("train")
@click.argument("config_file", required=False, metavar="[CONFIG.toml]")
@click.option("--model", "preset", metavar="PRESET", help="mlp, lenet, cnn or resnet, sized to the data.")
@click.option("--data", metavar="NAME|PATH",
              help="digits (embedded), fashion-mnist, mnist, cifar10, or a folder / .npz / .csv.")
@click.option("--epochs", type=int, help="Epochs to train (with --resume: the new total).")
@click.option("--batch-size", type=int, help="Examples per step.")
@click.option("--optimizer", type=click.Choice(OPTIMIZERS), help="The update rule.")
@click.option("--lr", type=float, help="Learning rate.")
@click.option("--weight-decay", type=float, help="L2 weight decay (decoupled for adamw).")
@click.option("--seed", type=int, help="Seeds initialisation, shuffling and dropout: same seed, same run.")
@click.option("--threads", type=int, help="Compute threads (default: all cores, or OMP_NUM_THREADS).")
@click.option("--val-split", type=float, help="Fraction of train held out for validation (0 for none).")
@click.option("--init-from", metavar="FILE.safetensors", help="Start from pretrained weights (PyTorch keys).")
@click.option("--out", "out_dir", metavar="RUNDIR", help="Run directory to create (default runs/<timestamp>).")
@click.option("--resume", "resume_dir", metavar="RUNDIR", help="Continue an interrupted or finished run.")
@click.option("--distributed", is_flag=True,
              help="Data-parallel over MPI ranks (implied under mpiexec); needs nntrain[mpi].")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with the results at the end.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no per-epoch lines.")
@user_errors
def command(config_file, preset, data, epochs, batch_size, optimizer, lr, weight_decay, seed, threads, val_split,
            init_from, out_dir, resume_dir, distributed, as_json, quiet):
    """Train a network and write its run directory.

    With no arguments, trains the default MLP on the embedded 8x8 digits and prints the test accuracy.
    Flags override CONFIG.toml, which overrides the defaults; the resolved run is written to
    RUNDIR/config.toml. Ctrl-C stops after the current step and saves a checkpoint; --resume RUNDIR
    continues it to the same weights an uninterrupted run reaches.

    \b
    Examples:
      nntrain train
      nntrain train --model cnn --data fashion-mnist --epochs 5 --out runs/cnn
      nntrain train my-net.toml --lr 3e-4
      nntrain train --resume runs/cnn --epochs 10
    """
    from .. import config as cfg
    from .. import run as runs
    from ..distributed import Distributed, launched_by_mpi

    dist = Distributed() if distributed or launched_by_mpi() else None
    if dist is not None and not dist.is_root:
        quiet, as_json = True, False  # only rank 0 talks
    # each rank's default share of the cores is how this job runs, not part of the run's configuration
    threads_option(dist.threads_per_rank() if dist is not None and threads is None else threads)
    if resume_dir is not None:
        changed = [name for name, value in (("CONFIG.toml", config_file), ("--model", preset), ("--data", data),
                   ("--batch-size", batch_size), ("--optimizer", optimizer), ("--lr", lr),
                   ("--weight-decay", weight_decay), ("--seed", seed), ("--val-split", val_split),
                   ("--init-from", init_from), ("--out", out_dir)) if value is not None]
        if changed:
            fail(f"--resume continues a run as it was configured; {', '.join(changed)} cannot change it "
                 "(only --epochs and --threads can)")
        config_path = os.path.join(resume_dir, runs.CONFIG)
        if not os.path.isfile(config_path):
            fail(f"{resume_dir}: not a run directory (no {runs.CONFIG})")
        config = cfg.resolve(config_path, {"training": {"epochs": epochs}} if epochs else None)
        directory = resume_dir
    else:
        overrides = _overrides(preset, data, epochs, batch_size, optimizer, lr, weight_decay, seed, threads,
                               val_split, init_from)
        config = cfg.resolve(config_file, overrides)
        if config["threads"]:
            threads_option(config["threads"])
        directory = out_dir or runs.default_run_dir()
        if dist is None:
            directory = runs.prepare_run_dir(directory)
        else:  # rank 0 makes the directory; every rank learns its name, or rank 0's error
            outcome = None
            if dist.is_root:
                try:
                    outcome = ("ok", runs.prepare_run_dir(directory))
                except ValueError as e:
                    outcome = ("error", str(e))
            kind, value = dist.broadcast(outcome)
            if kind == "error":
                fail(value)
            directory = value

    run = runs.Run(config, directory, dist)
    if resume_dir is not None:
        run.resume()
        if run.trainer.epoch >= config["training"]["epochs"] and not run.trainer._partial:
            fail(f"{resume_dir}: already trained {run.trainer.epoch} epochs; give --epochs N with N > "
                 f"{run.trainer.epoch} to train on")
    elif run.writes:
        run.write_config()

    interactive = sys.stderr.isatty() and not quiet and not as_json
    progress = Progress(len(run.loader), config["training"]["epochs"], show_bar=interactive,
                        show_lines=not quiet and not as_json)
    if not quiet and not as_json:
        train = run.splits.train
        val = run.splits.val
        if dist is not None:
            console().print(f"data-parallel over {dist.size} MPI ranks, {nntrain_threads()} threads each")
        what = "a custom network" if config["model"]["layers"] else config["model"]["preset"]
        console().print(f"training {what} on {run.splits.name}: {len(train):,} train, {0 if val is None else len(val):,} val, "
                        f"{0 if run.splits.test is None else len(run.splits.test):,} test examples of "
                        f"{tuple(train.input_shape)}, {train.classes} classes -> {directory}")
    start = time.perf_counter()
    done_before = sum(m.epoch > 0 for m in run.trainer.history)
    from ..train import TrainingInterrupted

    try:
        with _InterruptOnSigint(run.trainer):
            history = run.fit([progress.callback])
    except TrainingInterrupted as stop:
        progress.close()
        if not run.writes:
            sys.exit(EXIT_INTERRUPTED)
        run.save_checkpoint()
        click.echo(f"Interrupted at epoch {stop.epoch}, step {stop.step}; checkpoint saved. "
                   f"Continue with: nntrain train --resume {directory}", err=True)
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
    if not quiet:
        if not plotted:
            console().print("(curves.png not written: install matplotlib, e.g. pip install 'nntrain[plot]')")
        test = result["test"] or result["val"]
        which = "test" if result["test"] else "val"
        if test:
            console().print(f"{which} accuracy {test['accuracy']:.2%}  (loss {test['loss']:.4f})  "
                            f"in {seconds:.1f}s; run saved in {directory}")
    else:
        test = result["test"] or result["val"]
        if test:
            click.echo(f"{test['accuracy']:.4f}")
