"""Training progress on the terminal: a progress bar per epoch (on a terminal) and a line per epoch.

`nntrain train` shows it, and so does ``Model.fit(verbose=1)`` -- the one place the library prints, and only
when asked. Imports rich on first use, so importing this module costs nothing (`nntrain --help` stays fast).
"""

import math
import sys
import time


def console(err=False):
    """A rich Console on stdout (or stderr) that keeps long lines whole in logs and pipes."""
    from rich.console import Console

    # soft_wrap: long lines stay whole in logs and pipes instead of breaking at 80 columns; tables get
    # 120 columns there rather than rich's 80 (a terminal keeps its own width).
    stream = sys.stderr if err else sys.stdout
    width = None if stream.isatty() else 120
    return Console(stderr=err, highlight=False, soft_wrap=True, width=width)


def _accuracy(value):
    return "" if math.isnan(value) else f" acc {value:6.2%}"


# A regression run's validation scores, shown after its loss in place of accuracy.
REGRESSION_METRICS = ("mae", "rmse", "r2")


def _regression_scores(m):
    return "".join(f" {k[4:]} {v:.4g}" for k, v in m.extra.items() if k[4:] in REGRESSION_METRICS)


def epoch_line(m, epochs):
    """One epoch's summary: losses, accuracies (when measured) or regression scores, time and throughput."""
    val = "" if math.isnan(m.val_loss) else (f"  val loss {m.val_loss:.4f}{_accuracy(m.val_accuracy)}"
                                              f"{_regression_scores(m)}")
    return (f"epoch {m.epoch:>3}/{epochs}  train loss {m.train_loss:.4f}{_accuracy(m.train_accuracy)}{val}  "
            f"{m.seconds:6.2f}s  {m.samples_per_second:,.0f} samples/s")


class Progress:
    """A bar over the ``steps`` of each epoch (on stderr, when ``show_bar``) and a line per epoch (on stdout,
    when ``show_lines``); ``callback`` is the Trainer callback that drives both. ``steps_done()`` says how many
    steps of the first epoch were done before a resume."""

    def __init__(self, steps, epochs, show_bar, show_lines, steps_done=lambda: 0):
        from .callbacks import Callback

        self.steps, self.epochs, self.steps_done = steps, epochs, steps_done
        self.show_bar, self.show_lines = show_bar, show_lines
        self.out = console() if show_lines else None
        self.bar = None
        progress = self

        class _Callback(Callback):
            def on_epoch_begin(self, trainer, epoch):
                progress.begin(epoch)

            def on_batch_end(self, trainer, epoch, step, loss, batch_size):
                progress.batch(step, loss, batch_size)

            def on_epoch_end(self, trainer, metrics):
                progress.end(metrics)

            def on_train_end(self, trainer, history):
                progress.close()

        self.callback = _Callback()

    def begin(self, epoch):
        self.epoch, self.start, self.seen, self.loss_sum = epoch, time.perf_counter(), 0, 0.0
        if self.show_bar:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress as Bar, TextColumn, TimeRemainingColumn

            self.bar = Bar(TextColumn(f"epoch {epoch}/{self.epochs}"), BarColumn(), MofNCompleteColumn(),
                           TextColumn("loss {task.fields[loss]:.4f}  {task.fields[rate]:,.0f} samples/s"),
                           TimeRemainingColumn(), console=console(err=True), transient=True)
            self.bar.start()
            self.task = self.bar.add_task("train", total=self.steps, completed=self.steps_done(), loss=float("nan"),
                                          rate=0.0)

    def batch(self, step, loss, batch_size):
        self.seen += batch_size
        self.loss_sum += loss * batch_size
        if self.bar is not None:
            rate = self.seen / max(time.perf_counter() - self.start, 1e-9)
            self.bar.update(self.task, completed=step, loss=self.loss_sum / self.seen, rate=rate)

    def end(self, m):
        self.close()
        if self.show_lines:
            self.out.print(epoch_line(m, self.epochs))

    def warn(self, message):
        """A warning from training (a vanishing or exploding gradient) as one line on stderr, above the bar."""
        if self.bar is not None:
            self.bar.console.print(f"Warning: {message}", markup=False, highlight=False)
        else:
            print(f"Warning: {message}", file=sys.stderr, flush=True)

    def close(self):
        if self.bar is not None:
            self.bar.stop()
            self.bar = None
