"""A training step planned ahead for the commonest network: a ``Sequential`` of built-in Flatten, Linear and
activation layers trained with ``CrossEntropyLoss``.

For such a network the recorded graph is the same every step, so ``Trainer.train_step`` can skip recording
it: ``StepPlan.forward`` and ``StepPlan.backward`` call the same plain-array forwards and backwards the
layers' Functions call (so the numbers are the same to the last bit, which the tests check), in the order the
engine would, and write each parameter's ``.grad``. What it saves is the Python around the kernels:
Function.apply, Contexts, Tensors, Module calls and the engine's walk, about a fifth of a small mlp's step.

Anything the plan does not know falls back to the recorded step: another layer or a subclass, a forward
hook (the model summary, the non-finite search), a parameter that is frozen, has a post-accumulate-grad
hook (data-parallel buckets) or is used in two places, a class-weighted or per-sample loss, probability
targets, recording off, and inputs that are not C-contiguous NumPy arrays of the weights' dtype.
"""

import numpy as np

from . import _core
from . import functional as F
from .autograd.grad_mode import _Mode
from .functional import activation as Fa
from .functional.activation import _backward as _activation_backward
from .functional.loss import _target
from .nn import activation as act
from .nn.container import Flatten, Sequential
from .nn.linear import Linear
from .nn.loss import CrossEntropyLoss
from .nn.module import _global_forward_hooks, _global_forward_pre_hooks

# layer type -> (the Function its forward applies, that Function's parameter): the kernel's name and whether
# the derivative reads the output come from the Function, as in the recorded step
_ACTIVATIONS = {
    act.ReLU: lambda m: (Fa.ReLU, 0.0),
    act.LeakyReLU: lambda m: (Fa.LeakyReLU, float(m.negative_slope)),
    act.ELU: lambda m: (Fa.ELU, float(m.alpha)),
    act.Sigmoid: lambda m: (Fa.Sigmoid, 0.0),
    act.Tanh: lambda m: (Fa.Tanh, 0.0),
    act.GELU: lambda m: (Fa.GELU if m.approximate == "none" else Fa.GELUTanh, 0.0),
}


class StepPlan:
    """Forward and loss (``forward``), then backward (``backward``), of one batch without a recorded graph;
    see the module's docstring. ``StepPlan.of`` says whether a model and loss can run planned."""

    def __init__(self, layers, loss_fn):
        self.layers = layers
        self.loss_fn = loss_fn
        # Backward stops at the first Linear: the layers before it have no parameters and the batch needs
        # no gradient, as in the recorded step, where nothing before it requires one.
        self.first_linear = next(i for i, layer in enumerate(layers) if type(layer) is Linear)
        self._saved = self._probs = self._labels = None

    @classmethod
    def of(cls, model, loss_fn):
        """The plan for (model, loss_fn), or None where the recorded step must run."""
        if type(model) is not Sequential or type(loss_fn) is not CrossEntropyLoss:
            return None
        if loss_fn.weight is not None or loss_fn.reduction != "mean" or not _Mode.enabled or _Mode.tracer is not None:
            return None
        if _global_forward_hooks or _global_forward_pre_hooks or model._forward_hooks:
            return None
        layers = list(model._modules.values())
        seen = set()  # a parameter in two places (a layer used twice, tied weights) sums two gradients
        for layer in layers:
            kind = type(layer)
            if layer._forward_hooks or (kind is not Flatten and kind is not Linear and kind not in _ACTIVATIONS):
                return None
            if kind is Flatten and (layer.start_dim, layer.end_dim) != (1, -1):
                return None
            for p in layer._parameters.values():
                if p is not None and (not p._requires_grad or p._hooks or id(p) in seen):
                    return None
                seen.add(id(p))
        if not any(type(layer) is Linear for layer in layers):
            return None
        return cls(layers, loss_fn)

    def forward(self, x, y):
        """(loss as the recorded step reports it, logits) of the batch, or None for inputs the plan leaves
        to the recorded step (which then reports any error in them)."""
        if not (type(x) is np.ndarray and x.flags.c_contiguous and x.ndim >= 2):
            return None
        labels = _target(y)
        if labels.ndim != 1 or labels.dtype.kind != "i" or len(labels) != len(x):
            return None
        saved = []  # per layer, what its backward reads
        h = x
        for layer in self.layers:
            kind = type(layer)
            if kind is Linear:
                if h.ndim != 2 or h.shape[1] != layer.in_features or h.dtype != layer.weight.data.dtype:
                    return None
                bias = layer.bias
                saved.append(h)
                h = _core.linear_forward(h, layer.weight.data, None if bias is None else bias.data)
            elif kind is Flatten:
                saved.append(h.shape)
                h = h.reshape(h.shape[0], -1)
            else:
                function, param = _ACTIVATIONS[kind](layer)
                out = _core.activation_forward(function.kind, h, param)
                saved.append((function.kind, param, None if function.from_output else h,
                              out if function.from_output else None))
                h = out
        if h.ndim != 2:
            return None
        loss_fn = self.loss_fn
        loss, self._probs = _core.cross_entropy_forward(h, labels, loss_fn.label_smoothing, None,
                                                        loss_fn.ignore_index, "mean")
        self._saved, self._labels = saved, labels
        # the recorded loss is a 0-d array of the logits' dtype: the same rounding
        return float(np.asarray(loss, dtype=h.dtype)), h

    def backward(self):
        """Writes every parameter's .grad from the last forward (the chain rule, output to input)."""
        loss_fn = self.loss_fn
        grad = F.cross_entropy_backward(self._probs, self._labels, loss_fn.label_smoothing, 1.0,
                                        ignore_index=loss_fn.ignore_index)
        for i in range(len(self.layers) - 1, self.first_linear - 1, -1):
            layer, keep = self.layers[i], self._saved[i]
            kind = type(layer)
            if kind is Linear:
                bias = layer.bias
                dx, dweight, dbias = F.linear_backward(grad, keep, layer.weight.data, None if bias is None else True,
                                                       dx=False if i == self.first_linear else None)
                layer.weight.grad = dweight
                if bias is not None:
                    bias.grad = dbias
                grad = dx
            elif kind is Flatten:
                grad = grad.reshape(keep)
            else:
                name, param, x, y = keep
                grad = _activation_backward(name, grad, x, y, None, param)
        self._saved = self._probs = self._labels = None
