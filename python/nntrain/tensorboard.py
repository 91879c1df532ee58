"""TensorBoard event files of a training run, written through tensorboardX (the `tensorboard` extra).

    tensorboard --logdir RUNDIR/tensorboard

Every ``every`` steps: the batch loss (``batch/loss``), the learning rate (``batch/lr``) and each layer's
gradient norm (``grad_norm/<layer>``). Every epoch: each epoch metric, train against validation on one
chart (``loss/train``, ``loss/val``, ``accuracy/train``, ``mae/val``...; ``lr``, ``samples_per_second``),
and a histogram of every parameter (``weights/<name>``). The x-axis is the training step throughout, so
a resumed run purges what the interrupted one wrote after its checkpoint and carries on.
"""

import math

from .callbacks.base import Callback
from .callbacks.grad_norms import layer_norms


def _summary_writer():
    try:
        from tensorboardX import SummaryWriter
    except ImportError:
        raise ImportError("TensorBoard logging needs tensorboardX: pip install 'nntrain[tensorboard]'") from None
    return SummaryWriter


def epoch_tag(name):
    """'val_loss' -> 'loss/val', 'train_accuracy' -> 'accuracy/train', 'lr' -> 'lr'."""
    for part in ("train", "val"):
        if name.startswith(part + "_"):
            return f"{name[len(part) + 1:]}/{part}"
    return name


class TensorBoard(Callback):
    """Writes TensorBoard event files into ``log_dir``; ``every`` steps (0: none) for the per-step
    scalars, ``histograms`` and ``grad_norms`` to switch those off."""

    def __init__(self, log_dir, every=10, histograms=True, grad_norms=True):
        if isinstance(every, bool) or not isinstance(every, int) or every < 0:
            raise ValueError(f"TensorBoard: every must be an integer >= 0, got {every!r}")
        self.SummaryWriter = _summary_writer()  # fail now, before training, if it is missing
        self.log_dir, self.every, self.histograms, self.grad_norms = str(log_dir), every, histograms, grad_norms
        self.step = 0
        self.writer = None

    def on_train_begin(self, trainer):
        self.close()
        # Events after the step this state was saved at belong to an interrupted run: TensorBoard drops them.
        # The file is named by the second it was opened in; the step in the suffix keeps a resume within
        # the same second from overwriting the earlier file, and sorts after it.
        self.writer = self.SummaryWriter(self.log_dir, purge_step=self.step + 1 if self.step else None,
                                         filename_suffix=f".{self.step:012d}")

    def on_batch_end(self, trainer, epoch, step, loss, batch_size):
        self.step += 1
        if not self.every or self.step % self.every:
            return
        self.writer.add_scalar("batch/loss", loss, self.step)
        self.writer.add_scalar("batch/lr", trainer.optimizer.param_groups[0]["lr"], self.step)
        if self.grad_norms:
            for layer, norm in layer_norms(trainer.model)[1].items():
                self.writer.add_scalar(f"grad_norm/{layer or 'model'}", norm, self.step)

    def on_epoch_end(self, trainer, metrics):
        for name, value in metrics.as_dict().items():
            if name != "epoch" and isinstance(value, (int, float)) and math.isfinite(value):
                self.writer.add_scalar(epoch_tag(name), value, self.step)
        self.writer.add_scalar("epoch", metrics.epoch, self.step)
        if self.histograms:
            for name, p in trainer.model.named_parameters():
                self.writer.add_histogram(f"weights/{name}", p.data, self.step)
        self.writer.flush()

    def on_train_end(self, trainer, history):
        self.close()

    def close(self):
        """Flushes and closes the event file (call it when training ends by an exception)."""
        if self.writer is not None:
            self.writer.close()
            self.writer = None

    def state_dict(self):
        if self.writer is not None:
            self.writer.flush()  # what a checkpoint taken now knows of is on disk
        return {"step": self.step}

    def load_state_dict(self, state):
        self.step = int(state["step"])
