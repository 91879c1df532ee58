"""Classification losses: cross-entropy fused with softmax (on the C++ kernel), and the negative
log-likelihood of log-probabilities. PyTorch's semantics throughout:

    input (N, C) with target (N,) class indices or (N, C) probabilities; (N, C, d1, ...) with (N, d1, ...)
    or (N, C, d1, ...) (each position a sample, e.g. a pixel); (C,) with a scalar target (one sample).
    weight (C,) rescales each class; a target equal to ignore_index counts nowhere; reduction 'mean'
    divides by the sum of the weights of the targets counted (their number without weights) -- for
    probability targets by the number of samples -- 'sum' adds, 'none' keeps one loss per sample.
    label_smoothing e mixes each target with the uniform distribution: (1 - e) t + e / C.

Both ops work on rows (R, C): an (N, C, d1, ...) input has its class axis moved last, so R = N d1 ...
"""

import numbers

import numpy as np

from .. import _core
from ..autograd.function import Function
from ._grads import written_grad
from ._reduction import as_result, check_reduction


def _target(target):
    """Integer labels travel as int64; probability rows keep their dtype."""
    target = np.asarray(getattr(target, "data", target))
    if target.dtype.kind in "iub":
        return np.asarray(target, dtype=np.int64, order="C")  # (ascontiguousarray would make a 0-d label 1-d)
    return target


def _class_weight(op, weight, layout, dtype):
    """Per-class weights (a constant) as a contiguous array of the input's dtype, one per class."""
    if weight is None:
        return None
    weight = np.asarray(getattr(weight, "data", weight), dtype=dtype, order="C")  # a 0-d weight stays 0-d: refused
    if weight.shape != (layout.classes,):
        raise ValueError(f"{op}: weight of shape {weight.shape} needs one entry per class, ({layout.classes},)")
    return weight


def _labels_or_tensor(target):
    """Lists and arrays become arrays (int64 labels); a Tensor stays one (probabilities may need a gradient)."""
    from .._tensor import Tensor

    return target if isinstance(target, Tensor) else _target(target)


# ---- (N, C, d1, ...) <-> rows (R, C) ---------------------------------------------------------------------------

class _Layout:
    """How an input of any accepted shape becomes rows (R, C), and how per-row results go back."""

    def __init__(self, op, input, target):
        shape, target_shape = tuple(np.shape(input)), tuple(np.shape(target))
        if len(shape) == 0:
            raise ValueError(f"{op}: input must have a class dimension, got a 0-d input")
        self.unbatched = len(shape) == 1
        self.classes = shape[0] if self.unbatched else shape[1]
        self.sample_shape = () if self.unbatched else (shape[0],) + shape[2:]  # the shape of 'none'
        label_shape = self.sample_shape
        self.probabilities = np.asarray(getattr(target, "data", target)).dtype.kind == "f"
        want = shape if self.probabilities else label_shape
        if target_shape != want:
            raise ValueError(f"{op}: input of shape {shape} needs a target of shape {label_shape} (class indices) "
                             f"or {shape} (class probabilities), got {target_shape}")
        self.moved = len(shape) > 2  # the class axis is not last already

    def rows(self, x):
        """(N, C, d1, ...) -> (N d1 ..., C); Tensors through recorded ops, arrays through NumPy."""
        if self.unbatched:
            return x.reshape(1, self.classes)
        if self.moved:
            x = _moveaxis(x, 1, -1)
        return x.reshape(-1, self.classes)

    def target_rows(self, target):
        if self.probabilities:
            return self.rows(target)
        return target.reshape(-1)

    def per_sample(self, loss):
        """Row losses (R,) back to the samples' shape, for reduction='none'."""
        return loss.reshape(self.sample_shape)

    def probs(self, p):
        """softmax rows (R, C) back in the input's layout."""
        if self.unbatched:
            return p.reshape(self.classes)
        p = p.reshape(self.sample_shape[:1] + self.sample_shape[1:] + (self.classes,))
        return np.moveaxis(p, -1, 1) if self.moved else p


def _moveaxis(x, source, destination):
    if isinstance(x, np.ndarray):
        return np.moveaxis(x, source, destination)
    dims = list(range(x.ndim))
    dims.insert(destination % x.ndim, dims.pop(source % x.ndim))
    return x.permute(dims)


# ---- cross-entropy ------------------------------------------------------------------------------------------------

class CrossEntropy(Function):
    """Cross-entropy of softmax(logits) over rows (R, C); backward from the saved probabilities."""

    contiguous_inputs = True

    @staticmethod
    def forward(ctx, logits, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0,
                probs_out=None):
        target = _target(target)
        loss, probs = _core.cross_entropy_forward(logits, target, float(label_smoothing), weight, int(ignore_index),
                                                  reduction)
        ctx.probs, ctx.target = probs, target
        ctx.options = dict(weight=weight, ignore_index=int(ignore_index), reduction=reduction,
                           label_smoothing=float(label_smoothing))
        if ctx.needs_input_grad[1]:
            ctx.save_for_backward(logits)
        if probs_out is not None:
            probs_out.append(probs)
        return np.asarray(loss, dtype=logits.dtype)

    @staticmethod
    def backward(ctx, g):
        need_logits, need_target = ctx.needs_input_grad
        options = ctx.options
        grad = np.ascontiguousarray(g) if options["reduction"] == "none" else float(g)
        dlogits = cross_entropy_backward(ctx.probs, ctx.target, grad=grad, **options) if need_logits else None
        dtarget = _probability_target_grad(ctx, g) if need_target else None
        return dlogits, dtarget


def _probability_target_grad(ctx, g):
    """d(loss)/d(probability target): -(1 - e) w_c log p_c per row, scaled as the reduction scales."""
    (logits,) = ctx.saved_tensors
    options = ctx.options
    logp = _core.log_softmax_forward(logits, 1.0)
    dt = -(1.0 - options["label_smoothing"]) * logp
    if options["weight"] is not None:
        dt = dt * options["weight"]
    if options["reduction"] == "none":
        return (dt * g[:, None]).astype(logits.dtype, copy=False)
    scale = float(g) / (logits.shape[0] if options["reduction"] == "mean" else 1)
    return (dt * scale).astype(logits.dtype, copy=False)


def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0,
                  return_probs=False):
    """Cross-entropy of softmax(input) against class indices or class probabilities (see the module's
    docstring for the shapes and PyTorch's weighting). Softmax and the log are fused and max-subtracted,
    so logits of any size are safe. With return_probs, also returns softmax(input) in the input's layout
    (what the explicit :func:`cross_entropy_backward` needs)."""
    if isinstance(weight, numbers.Number):
        raise TypeError("cross_entropy: the third argument is weight (per-class weights); "
                        "pass label_smoothing=... by name")
    check_reduction("cross_entropy", reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    target = _labels_or_tensor(target)
    layout = _Layout("cross_entropy", input, target)
    weight = _class_weight("cross_entropy", weight, layout, input.dtype)
    probs = [] if return_probs else None
    loss = CrossEntropy.apply(layout.rows(input), layout.target_rows(target), weight=weight,
                              ignore_index=ignore_index, reduction=reduction, label_smoothing=label_smoothing,
                              probs_out=probs)
    if reduction == "none":
        loss = layout.per_sample(loss)
    loss = as_result(loss)
    if return_probs:
        p = layout.probs(probs[0])
        if isinstance(loss, (float, np.ndarray)):
            return loss, p
        from .._tensor import Tensor

        return loss, Tensor(p)
    return loss


def cross_entropy_backward(probs, target, label_smoothing=0.0, grad=1.0, *, weight=None, ignore_index=-100,
                           reduction="mean", dlogits=None):
    """Gradient of grad * cross_entropy w.r.t. the logits (rows (N, C)), from softmax(logits): for the plain
    mean, grad / N * (probs - smoothed target). ``grad`` is one number, or one per row for reduction='none'."""
    probs = np.asarray(probs)
    grad = np.ascontiguousarray(grad, dtype=probs.dtype) if np.ndim(grad) else float(grad)
    if weight is not None:
        weight = np.ascontiguousarray(getattr(weight, "data", weight), dtype=probs.dtype)
    return written_grad(dlogits, lambda d: _core.cross_entropy_backward(
        probs, _target(target), d, float(label_smoothing), grad, weight, int(ignore_index), reduction))


# ---- negative log-likelihood ----------------------------------------------------------------------------------------

class NLL(Function):
    """-w_y logp_y per row (R, C), 0 for ignored rows; the mean divides by the sum of w_y counted.
    Backward puts -w_y (times the row's share of the gradient) at each row's target class."""

    contiguous_inputs = True

    @staticmethod
    def forward(ctx, logp, target, weight=None, ignore_index=-100, reduction="mean"):
        rows, classes = logp.shape
        labels = _target(target)
        kept = labels != ignore_index
        bad = kept & ((labels < 0) | (labels >= classes))
        if bad.any():
            i = int(np.argmax(bad))
            raise IndexError(f"nll_loss: target {labels[i]} at index {i} is out of bounds for {classes} classes")
        safe = np.where(kept, labels, 0)
        w = (np.ones(rows, logp.dtype) if weight is None else weight[safe].astype(logp.dtype)) * kept
        picked = np.take_along_axis(logp, safe[:, None], axis=1)[:, 0]
        losses = -w * picked
        ctx.rows, ctx.safe, ctx.w, ctx.reduction = logp.shape, safe, w, reduction
        if reduction == "none":
            return losses
        total = losses.sum(dtype=np.float64)
        if reduction == "mean":
            total = total / w.sum(dtype=np.float64)  # 0/0 = NaN when every row is ignored, as PyTorch
        return np.asarray(total, dtype=logp.dtype)

    @staticmethod
    def backward(ctx, g):
        scale = ctx.w * (g if ctx.reduction == "none" else float(g))
        if ctx.reduction == "mean":
            scale = scale / ctx.w.sum(dtype=np.float64)
        dlogp = np.zeros(ctx.rows, dtype=ctx.w.dtype)
        np.put_along_axis(dlogp, ctx.safe[:, None], -scale.astype(ctx.w.dtype)[:, None], axis=1)
        return dlogp, None


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):
    """The negative log-likelihood of log-probabilities (a log_softmax's output) at the target classes:
    cross_entropy(x, y) == nll_loss(log_softmax(x, 1), y). Shapes and weighting as cross_entropy."""
    check_reduction("nll_loss", reduction)
    target = _target(target)
    if target.dtype.kind == "f":
        raise ValueError(f"nll_loss: target must hold class indices (integers), got {target.dtype}")
    layout = _Layout("nll_loss", input, target)
    weight = _class_weight("nll_loss", weight, layout, input.dtype)
    loss = NLL.apply(layout.rows(input), layout.target_rows(target), weight=weight, ignore_index=ignore_index,
                     reduction=reduction)
    return as_result(layout.per_sample(loss) if reduction == "none" else loss)
