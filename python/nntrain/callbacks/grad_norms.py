"""Seeing gradients vanish or explode: per-layer gradient and weight norms, logged every N steps.

Vanishing: a layer's gradient norm below ``vanishing_ratio`` (1e-6) of the largest layer's at the same
step -- the early layers of a deep sigmoid network barely learn. Exploding: a layer's gradient norm
``exploding_factor`` (1e3) times what it was at the first logged step of the same epoch. Each is
reported once (vanishing once per layer per run, exploding once per layer per epoch) as a
``GradientWarning`` through Python's ``warnings`` module: the library never prints, the CLI decides how
warnings look, and ``warnings.filterwarnings`` can silence or escalate them.

The norms are read in ``on_batch_end``, after the optimiser step: the gradients are still those of the
step (``zero_grad`` comes at the start of the next); with ``clip_grad_norm`` they are the clipped ones.
"""

import csv
import io
import math
import os
import warnings
from collections import OrderedDict

from .. import checkpoint as ckpt
from .base import Callback

FIELDS = ("step", "epoch", "layer", "parameter", "grad_norm", "weight_norm")


class GradientWarning(UserWarning):
    """A layer's gradient vanished or exploded (issued by GradNormLogger)."""


def layer_of(parameter_name):
    """'3.weight' -> ('3', 'weight'); a parameter of the model itself belongs to layer ''."""
    layer, _, name = parameter_name.rpartition(".")
    return layer, name


def layer_norms(model):
    """(per-parameter rows, per-layer gradient norms): rows are (layer, parameter, grad norm, weight norm);
    a layer's norm is that of all its parameters' gradients together. Parameters without a gradient
    (frozen, or unused by this step's forward) are left out rather than counted as vanished."""
    from .. import functional as F

    named = [(name, p) for name, p in model.named_parameters() if p.grad is not None]
    grads = F.array_norms([p.grad for _, p in named])
    weights = F.array_norms([p.data for _, p in named])
    rows, layers = [], OrderedDict()
    for (name, _), g, w in zip(named, grads, weights):
        layer, parameter = layer_of(name)
        rows.append((layer, parameter, g, w))
        layers[layer] = layers.get(layer, 0.0) + g * g
    return rows, OrderedDict((k, math.sqrt(v)) for k, v in layers.items())


class GradNormLogger(Callback):
    """Every ``every`` steps, appends one row per parameter tensor to ``path`` (a CSV with columns step,
    epoch, layer, parameter, grad_norm, weight_norm; ``step`` counts from the start of training) and
    checks for vanishing and exploding gradients. At the end of training it draws ``plot_path``
    (default: grad_norms.png beside the CSV; one line per layer, log scale; needs matplotlib).
    """

    def __init__(self, path, every=10, plot_path=None, vanishing_ratio=1e-6, exploding_factor=1e3):
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"GradNormLogger: every must be an integer >= 1, got {every!r}")
        self.path, self.every = os.fspath(path), every
        default_plot = os.path.join(os.path.dirname(self.path), "grad_norms.png")
        self.plot_path = os.fspath(plot_path) if plot_path else default_plot
        self.vanishing_ratio, self.exploding_factor = float(vanishing_ratio), float(exploding_factor)
        self.step = 0
        self.history = OrderedDict()  # layer -> [(step, gradient norm)] for the plot
        self.vanished = set()  # layers already reported as vanishing
        self.epoch_start, self.epoch_start_of = {}, None  # layer norms at the first logged step of an epoch
        self.exploded = set()

    # ---- the CSV ------------------------------------------------------------------------------------
    def on_train_begin(self, trainer):
        # A fresh run starts the file; a resumed one keeps the rows up to the checkpoint's step, so a
        # crash between logging and checkpointing leaves no rows twice.
        kept = [r for r in self._read() if int(r["step"]) <= self.step] if self.step else []
        self._rewrite(kept)
        self._layer_history_from(kept)

    def _read(self):
        try:
            with open(self.path, newline="") as f:
                return list(csv.DictReader(f))
        except FileNotFoundError:
            return []

    def _rewrite(self, rows):
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        directory = os.path.dirname(self.path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        ckpt.atomic_write_bytes(self.path, out.getvalue().encode())

    def _layer_history_from(self, rows):
        sums = OrderedDict()
        for r in rows:
            key = (int(r["step"]), r["layer"])
            sums[key] = sums.get(key, 0.0) + float(r["grad_norm"]) ** 2
        self.history = OrderedDict()
        for (step, layer), s in sums.items():
            self.history.setdefault(layer, []).append((step, math.sqrt(s)))

    # ---- each step ----------------------------------------------------------------------------------
    def on_batch_end(self, trainer, epoch, step, loss, batch_size):
        self.step += 1
        if self.step % self.every:
            return
        rows, layers = layer_norms(trainer.model)
        with open(self.path, "a", newline="") as f:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerows((self.step, epoch, layer, name, f"{g:.6g}", f"{w:.6g}") for layer, name, g, w in rows)
        for layer, norm in layers.items():
            self.history.setdefault(layer, []).append((self.step, norm))
        self.check(layers, epoch, step)

    def check(self, layers, epoch, step):
        """Issues a GradientWarning for each layer that newly vanished or exploded."""
        if self.epoch_start_of != epoch:
            self.epoch_start, self.epoch_start_of, self.exploded = dict(layers), epoch, set()
        largest_layer = max(layers, key=layers.get, default=None)
        largest = layers.get(largest_layer, 0.0)
        for layer, norm in layers.items():
            where = f"at epoch {epoch}, step {step}"
            if layer not in self.vanished and largest > 0 and norm < self.vanishing_ratio * largest:
                self.vanished.add(layer)
                warnings.warn(f"vanishing gradient: layer '{layer}' has gradient norm {norm:.3g}, below "
                              f"{self.vanishing_ratio:g} of layer '{largest_layer}' ({largest:.3g}) {where}",
                              GradientWarning, stacklevel=2)
            start = self.epoch_start.get(layer, 0.0)
            if layer not in self.exploded and start > 0 and norm > self.exploding_factor * start:
                self.exploded.add(layer)
                warnings.warn(f"exploding gradient: layer '{layer}' has gradient norm {norm:.3g}, "
                              f"{norm / start:.3g} times its {start:.3g} at the start of the epoch {where}",
                              GradientWarning, stacklevel=2)

    # ---- the picture --------------------------------------------------------------------------------
    def on_train_end(self, trainer, history):
        self.plot()

    def plot(self):
        """Draws plot_path; returns False (and draws nothing) without matplotlib or without data."""
        from ..plots import plot_grad_norms

        return bool(self.history) and plot_grad_norms(self.history, self.plot_path)

    def state_dict(self):
        return {"step": self.step, "vanished": sorted(self.vanished), "epoch_start": self.epoch_start,
                "epoch_start_of": self.epoch_start_of, "exploded": sorted(self.exploded)}

    def load_state_dict(self, state):
        self.step, self.vanished = int(state["step"]), set(state["vanished"])
        self.epoch_start, self.epoch_start_of = dict(state["epoch_start"]), state["epoch_start_of"]
        self.exploded = set(state["exploded"])
