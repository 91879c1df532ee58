"""Composition: Sequential runs layers in order; Residual adds a skip connection; Flatten reshapes."""

from .activation import ReLU
from .module import Module
from .norm import _BatchNorm


class Sequential(Module):
    """``Sequential(l0, l1, ...)``: forward is l_n(...l1(l0(x)))."""

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

    def append(self, layer):
        setattr(self, str(len(self._modules)), layer)
        return self

    def forward(self, x):
        layers = list(self._modules.values())
        i = 0
        while i < len(layers):
            layer = layers[i]
            # While training, a BatchNorm followed by a ReLU runs as one fused kernel each way (the ReLU's
            # work is done exactly inside the BatchNorm kernels); the ReLU module is skipped for this call.
            if (self.training and isinstance(layer, _BatchNorm) and i + 1 < len(layers)
                    and type(layers[i + 1]) is ReLU):
                x = layer(x, relu=True)
                i += 2
                continue
            x = layer(x)
            i += 1
        return x


class Residual(Module):
    """``x + block(x)``, or ``projection(x) + block(x)`` when the block changes the shape. The gradient
    reaches x along both paths."""

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
                f"Residual: block output {tuple(out.shape)} does not match the skip path {tuple(skip.shape)}; "
                "give a projection that maps the input to the block's output shape")
        return out + skip


class Flatten(Module):
    """(N, d1, d2, ...) -> (N, d1*d2*...): dims start_dim..end_dim merged into one (a view, no copy)."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = int(start_dim), int(end_dim)

    def forward(self, x):
        return x.flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        return "" if (self.start_dim, self.end_dim) == (1, -1) else f"start_dim={self.start_dim}, end_dim={self.end_dim}"
