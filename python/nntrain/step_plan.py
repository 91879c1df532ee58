"""A training step planned ahead for the commonest network: a ``Sequential`` of built-in Flatten, Linear and
activation layers trained with ``CrossEntropyLoss``.

For such a network the recorded graph is the same every step, so ``Trainer.train_step`` can skip recording
it: ``StepPlan.run`` hands the whole chain to one kernel call, ``_core.dense_chain_step``
(cpp/dense_chain.cpp), which runs the same forwards and backwards the layers' Functions call, with the same
arguments in the order the engine calls them (so the numbers are the same to the last bit, which the tests
check), and returns the loss, the count of correct predictions and every parameter's gradient. What it saves
is the Python around the kernels: Function.apply, Contexts, Tensors, Module calls and the engine's walk (a
fifth of a small mlp's step), and a Python round trip per kernel (a tenth more).

Anything the plan does not know falls back to the recorded step: another layer or a subclass, a forward
hook (the model summary, the non-finite search), a parameter that is frozen, has a post-accumulate-grad
hook (data-parallel buckets) or is used in two places, a class-weighted or per-sample loss, probability
targets, recording off, inputs that are not C-contiguous NumPy arrays of the weights' dtype and width, and a
Linear that would see more than two dimensions.
"""

import numpy as np

from . import _core
from .autograd.grad_mode import _Mode
from .functional import activation as Fa
from .functional.loss import _target
from .nn import activation as act
from .nn.container import Flatten, Sequential
from .nn.linear import Linear
from .nn.loss import CrossEntropyLoss
from .nn.module import _global_forward_hooks, _global_forward_pre_hooks

# layer type -> (the Function its forward applies, that Function's parameter): the kernel's name comes from
# the Function, as in the recorded step
_ACTIVATIONS = {
    act.ReLU: lambda m: (Fa.ReLU, 0.0),
    act.LeakyReLU: lambda m: (Fa.LeakyReLU, float(m.negative_slope)),
    act.ELU: lambda m: (Fa.ELU, float(m.alpha)),
    act.Sigmoid: lambda m: (Fa.Sigmoid, 0.0),
    act.Tanh: lambda m: (Fa.Tanh, 0.0),
    act.GELU: lambda m: (Fa.GELU if m.approximate == "none" else Fa.GELUTanh, 0.0),
}


class StepPlan:
    """Forward, loss and backward of one batch without a recorded graph, in one kernel call (``run``); see
    the module's docstring. ``StepPlan.of`` says whether a model and loss can run planned."""

    def __init__(self, layers, loss_fn):
        self.loss_fn = loss_fn
        self.linears = [layer for layer in layers if type(layer) is Linear]
        # Flatten only reshapes; activations are elementwise, so the chain runs on (batch, features) rows
        self.ops = [("linear", 0.0) if type(layer) is Linear else _op(layer) for layer in layers
                    if type(layer) is not Flatten]
        first_linear = next(i for i, layer in enumerate(layers) if type(layer) is Linear)
        self.flattens_input = any(type(layer) is Flatten for layer in layers[:first_linear])

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

    def run(self, x, y):
        """(loss as the recorded step reports it, number of rows whose arg-max logit is their label) of the
        batch, with every parameter's .grad written when the loss is finite; or None for inputs the plan leaves
        to the recorded step (which then reports any error in them)."""
        if not (type(x) is np.ndarray and x.flags.c_contiguous and x.ndim >= 2):
            return None
        labels = _target(y)
        if labels.ndim != 1 or labels.dtype.kind != "i" or len(labels) != len(x):
            return None
        if x.ndim > 2:  # the first Linear must see (batch, features)
            if not self.flattens_input:
                return None
            x = x.reshape(len(x), -1)
        weights = [layer.weight.data for layer in self.linears]
        biases = [None if layer.bias is None else layer.bias.data for layer in self.linears]
        if x.shape[1] != self.linears[0].in_features or any(a is not None and a.dtype != x.dtype
                                                             for a in weights + biases):
            return None
        loss_fn = self.loss_fn
        loss, correct, dweights, dbiases = _core.dense_chain_step(
            x, labels, self.ops, weights, biases, loss_fn.label_smoothing, loss_fn.ignore_index)
        if dweights is not None:
            for layer, dweight, dbias in zip(self.linears, dweights, dbiases):
                layer.weight.grad = dweight
                if dbias is not None:
                    layer.bias.grad = dbias
        return loss, correct


def _op(layer):
    """An activation layer's (kernel name, parameter), as its Function runs it."""
    function, param = _ACTIVATIONS[type(layer)](layer)
    return function.kind, param
