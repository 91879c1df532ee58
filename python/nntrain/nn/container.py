"""Composition: Sequential runs layers in order (backward in reverse); Residual adds a skip connection."""

import numpy as np

from .activation import ReLU
from .module import Module
from .norm import _BatchNorm


class Sequential(Module):
    """``Sequential(l0, l1, ...)``: forward is l_n(...l1(l0(x))), backward the chain rule in reverse order."""

    def __init__(self, *layers):
        super().__init__()
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise TypeError(f"Sequential: layer {i} is a {type(layer).__name__}, not a Module")
            setattr(self, str(i), layer)

    def __len__(self):
        return len(self._modules)

    def __getitem__(self, i):
        layers = list(self._modules.values())
        return Sequential(*layers[i]) if isinstance(i, slice) else layers[i]

    def __iter__(self):
        return iter(self._modules.values())

    def forward(self, x):
        layers = list(self._modules.values())
        # While training, a BatchNorm followed by a ReLU runs as one fused pass each way (the ReLU's work
        # is done inside the BatchNorm kernels, exactly); the ReLU module is skipped for this step.
        fused, i = [], 0
        while i < len(layers):
            layer = layers[i]
            if (self.training and isinstance(layer, _BatchNorm) and i + 1 < len(layers)
                    and type(layers[i + 1]) is ReLU):
                x = layer.forward(x, relu=True)
                fused.append(i + 1)
                i += 2
                continue
            x = layer(x)
            i += 1
        object.__setattr__(self, "_fused_relus", frozenset(fused))
        return x

    def backward(self, grad_out):
        layers = list(self._modules.values())
        fused = getattr(self, "_fused_relus", frozenset())
        # Without a consumer for the input gradient, the chain can stop at the first layer with
        # parameters: what lies before it (a Flatten, say) has nothing to learn.
        stop = 0
        if not self.needs_input_grad:
            stop = next((i for i, layer in enumerate(layers) if next(layer.named_parameters(), None) is not None),
                        len(layers))
        for i in reversed(range(stop, len(layers))):
            if i in fused:
                continue  # the BatchNorm before it applies this ReLU's backward
            layers[i].needs_input_grad = self.needs_input_grad or i > stop
            grad_out = layers[i].backward(grad_out)
        return grad_out if self.needs_input_grad else None


class Residual(Module):
    """``x + block(x)``, or ``projection(x) + block(x)`` when the block changes the shape.

    Backward: the gradient reaches x along both paths, ``grad + block.backward(grad)`` (through the
    projection's backward when there is one).
    """

    def __init__(self, block, projection=None):
        super().__init__()
        self.block = block
        if projection is not None:
            self.projection = projection

    def forward(self, x):
        out = self.block(x)
        skip = self.projection(x) if "projection" in self._modules else x
        if out.shape != skip.shape:
            raise ValueError(
                f"Residual: block output {out.shape} does not match the skip path {skip.shape}; "
                "give a projection that maps the input to the block's output shape")
        return out + skip

    def backward(self, grad_out):
        grad_in = self.block.backward(grad_out)
        if "projection" in self._modules:
            grad_in = grad_in + self.projection.backward(grad_out)
        else:
            grad_in = grad_in + grad_out
        return grad_in


class Flatten(Module):
    """(N, d1, d2, ...) -> (N, d1*d2*...): a view, no copy."""

    def forward(self, x):
        self._shape = x.shape
        return np.ascontiguousarray(x).reshape(x.shape[0], -1)

    def backward(self, grad_out):
        return grad_out.reshape(self._shape)
