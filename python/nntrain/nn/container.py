"""Composition: Sequential runs layers in order; Residual adds a skip connection; Flatten reshapes; Identity
passes through; ModuleList and ModuleDict hold sub-modules for a forward written by hand."""

from .activation import ReLU
from .module import Module, _global_forward_hooks, _global_forward_pre_hooks
from .norm import _BatchNorm
from .pool import MaxPool2d


def _skippable(layer, kind):
    """Whether a BatchNorm's kernel may do `layer`'s work: a plain `kind` with no hook that would miss its call."""
    return (type(layer) is kind and not layer._forward_hooks and not _global_forward_hooks
            and not _global_forward_pre_hooks)


def _is_2x2_max_pool(layer):
    return (_skippable(layer, MaxPool2d) and layer.kernel_size == (2, 2) and layer.stride == (2, 2)
            and layer.padding == (0, 0) and layer.dilation == (1, 1) and not layer.ceil_mode
            and not layer.return_indices)


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
            # work is done exactly inside the BatchNorm kernels), and so does one followed by a ReLU and a
            # 2x2 max-pool (the end of a CNN stage); the modules it covers are skipped for this call.
            if (self.training and isinstance(layer, _BatchNorm) and i + 1 < len(layers)
                    and _skippable(layers[i + 1], ReLU)):
                if (i + 2 < len(layers) and _is_2x2_max_pool(layers[i + 2]) and x.ndim == 4
                        and x.shape[2] >= 2 and x.shape[3] >= 2):
                    x = layer(x, relu=True, max_pool=True)
                    i += 3
                    continue
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


class Identity(Module):
    """Returns its input unchanged (any arguments are accepted and ignored, as in PyTorch): a placeholder
    where a layer is optional."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, x):
        return x


class ModuleList(Module):
    """A list of modules, registered under "0", "1", ... (so their parameters are the model's, with
    PyTorch's state-dict keys); it has no forward -- the owner's forward decides how to call them."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def _check(self, module, where):
        if not isinstance(module, Module):
            raise TypeError(f"ModuleList: {where} is a {type(module).__name__}, not a Module")
        return module

    def _index(self, i):
        n = len(self._modules)
        if not -n <= i < n:
            raise IndexError(f"ModuleList: index {i} is out of range for {n} modules")
        return i % n

    def _renumber(self, modules):
        for name in list(self._modules):
            delattr(self, name)
        for i, m in enumerate(modules):
            setattr(self, str(i), m)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(list(self._modules.values()))

    def __getitem__(self, i):
        if isinstance(i, slice):
            return ModuleList(list(self._modules.values())[i])
        return self._modules[str(self._index(i))]

    def __setitem__(self, i, module):
        setattr(self, str(self._index(i)), self._check(module, f"item {i}"))

    def __delitem__(self, i):
        modules = list(self._modules.values())
        del modules[i if isinstance(i, slice) else self._index(i)]
        self._renumber(modules)

    def __iadd__(self, modules):
        return self.extend(modules)

    def append(self, module):
        setattr(self, str(len(self._modules)), self._check(module, "the appended value"))
        return self

    def extend(self, modules):
        for m in modules:
            self.append(m)
        return self

    def insert(self, index, module):
        modules = list(self._modules.values())
        modules.insert(index, self._check(module, "the inserted value"))
        self._renumber(modules)


class ModuleDict(Module):
    """A dict of modules by name (insertion-ordered), registered under those names; no forward."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key):
        return self._modules[key]

    def __setitem__(self, key, module):
        if not isinstance(key, str) or not key or "." in key:
            raise KeyError(f"ModuleDict: keys must be non-empty strings without '.', got {key!r}")
        if not isinstance(module, Module):
            raise TypeError(f"ModuleDict: '{key}' is a {type(module).__name__}, not a Module")
        setattr(self, key, module)

    def __delitem__(self, key):
        if key not in self._modules:
            raise KeyError(key)
        delattr(self, key)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(list(self._modules))

    def __contains__(self, key):
        return key in self._modules

    def keys(self):
        return self._modules.keys()

    def values(self):
        return self._modules.values()

    def items(self):
        return self._modules.items()

    def update(self, modules):
        items = modules.items() if hasattr(modules, "items") else modules
        for key, module in items:
            self[key] = module

    def pop(self, key):
        module = self[key]
        del self[key]
        return module

    def clear(self):
        for key in list(self._modules):
            del self[key]
