"""Pictures of a run: learning curves, the confusion matrix, gradient norms per layer. matplotlib is
optional (the `plot` extra); without it these return False and write nothing."""

import os

import numpy as np


def _figure(**kwargs):
    """A matplotlib Figure drawn by the Agg (file) renderer, or None without matplotlib. pyplot is never
    imported: it costs a second of start-up and keeps every figure in a global registry until closed."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        return None
    return Figure(**kwargs)


def _save(fig, path, margins=None):
    """PNG of ``fig`` written atomically. ``margins`` (left, bottom, right, top as figure fractions) place
    the axes where the labels of a fixed layout fit; without them tight_layout measures every label (a
    quarter second or more), which only the confusion matrix's class names of any length need."""
    from .checkpoint import atomic_write_bytes
    import io

    if margins is None:
        fig.tight_layout()
    else:
        left, bottom, right, top = margins
        fig.subplots_adjust(left=left, bottom=bottom, right=right, top=top, wspace=0.25)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    atomic_write_bytes(os.fspath(path), buffer.getvalue())


def plot_curves(history, path, metrics=None):
    """Loss and accuracy (or each of ``metrics``, e.g. ("mae", "rmse", "r2")) per epoch, train against
    validation: the gap between them shows over-fitting, two high flat losses under-fitting."""
    names = ("loss",) + tuple(metrics or ("accuracy",))
    fig = _figure(figsize=(5 * len(names), 4))
    if fig is None:
        return False
    epochs = [m.epoch for m in history]
    rows = [m.as_dict() for m in history]
    axes = fig.subplots(1, len(names), squeeze=False)[0]
    for ax, key in zip(axes, names):
        for part, style, label in (("train", "o-C0", "train"), ("val", "s-C1", "validation")):
            values = [row.get(f"{part}_{key}", float("nan")) for row in rows]
            if any(v == v for v in values):  # not all NaN
                ax.plot(epochs, values, style, label=label)
        ax.set_xlabel("epoch")
        ax.set_title(key if key in ("loss", "accuracy") else key.upper().replace("R2", "R²"))
        ax.grid(alpha=0.3)
        if ax.lines:
            ax.legend()
    _save(fig, path, margins=(0.08, 0.13, 0.98, 0.92))
    return True


def plot_confusion(confusion, class_names, path):
    """The confusion matrix (rows: true class, columns: predicted) as a heat map with counts."""
    k = len(confusion)
    fig = _figure(figsize=(1.0 + 0.6 * k, 0.8 + 0.6 * k))
    if fig is None:
        return False
    names = class_names or [str(i) for i in range(k)]
    ax = fig.subplots()
    ax.imshow(confusion, cmap="Blues")
    ax.set_xticks(range(k), names, rotation=45, ha="right")
    ax.set_yticks(range(k), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    top = confusion.max() if confusion.size else 0
    for i in range(k):
        for j in range(k):
            ax.text(j, i, str(confusion[i, j]), ha="center", va="center",
                    color="white" if confusion[i, j] > top / 2 else "black", fontsize=8)
    _save(fig, path)
    return True


def plot_grad_norms(history, path):
    """Gradient norm per layer against the training step, log scale: vanishing gradients show as the
    early layers' lines lying decades below the last layers'."""
    fig = _figure(figsize=(8, 4.5))
    if fig is None:
        return False
    ax = fig.subplots()
    for layer, points in history.items():
        steps, norms = zip(*points)
        ax.plot(steps, [max(n, 1e-30) for n in norms], label=f"layer {layer}" if layer else "model")
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("gradient norm")
    ax.set_title("gradient norm per layer")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7, ncol=2)
    _save(fig, path, margins=(0.1, 0.12, 0.98, 0.92))
    return True


def plot_lr_find(result, path):
    """The range test: smoothed loss against learning rate (log scale), the suggested rate marked."""
    fig = _figure(figsize=(7, 4.5))
    if fig is None:
        return False
    ax = fig.subplots()
    ax.plot(result.lrs, result.losses, color="0.8", lw=0.8, label="batch loss")
    ax.plot(result.lrs, result.smoothed, lw=1.8, label="smoothed loss")
    ax.axvline(result.suggestion, color="C3", ls="--", label=f"suggested {result.suggestion:.2g}")
    ax.set_xscale("log")
    finite = result.smoothed[np.isfinite(result.smoothed)]
    if finite.size:  # the last, diverging points would flatten everything else
        low, start = finite.min(), finite[0]
        ax.set_ylim(low - 0.1 * (start - low + 1e-12), start + 0.5 * (start - low + 1e-12))
    ax.set_xlabel("learning rate")
    ax.set_ylabel("loss")
    ax.set_title("learning-rate range test")
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    _save(fig, path, margins=(0.11, 0.12, 0.98, 0.92))
    return True
