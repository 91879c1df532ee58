"""Parameter and Module: the stateful layer of the network, with PyTorch's vocabulary.

There is no autograd tape. Every module owns a ``forward`` that remembers what its backward needs and a
``backward(grad_out) -> grad_in`` that applies the chain rule for that one layer and *accumulates* the
gradients of its own parameters into ``Parameter.grad``. Containers run their children's backwards in
reverse order.
"""

from collections import OrderedDict

import numpy as np


class Parameter:
    """A trainable array ``data`` and the gradient ``grad`` that backward accumulates into."""

    __slots__ = ("data", "grad", "requires_grad")

    def __init__(self, data, requires_grad=True):
        self.data = np.asarray(data, order="C")  # not ascontiguousarray: it turns a 0-d array into shape (1,)
        if self.data.dtype not in (np.float32, np.float64):
            raise ValueError(f"Parameter: expected float32 or float64 data, got {self.data.dtype}")
        self.grad = np.zeros_like(self.data)
        self.requires_grad = requires_grad

    @property
    def shape(self):
        return self.data.shape

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def size(self):
        return self.data.size

    def zero_grad(self):
        self.grad.fill(0)

    def __repr__(self):
        return f"Parameter(shape={self.data.shape}, dtype={self.data.dtype})"


class Module:
    """Base class of every layer. Subclasses define ``forward`` and ``backward``.

    Assigning a Parameter or a Module to an attribute registers it (like ``torch.nn.Module``);
    ``register_buffer`` registers non-trainable state such as BatchNorm's running statistics, which is
    saved in ``state_dict`` but not returned by ``parameters()``.
    """

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)
        # False when nothing upstream wants d(loss)/d(input): the network's first layer. Layers that
        # honour it (Linear, Conv2d) skip that product and return None. Trainer sets it on the model.
        object.__setattr__(self, "needs_input_grad", True)

    # ---- registration -------------------------------------------------------------------------
    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise RuntimeError(f"{type(self).__name__}.__init__ must call super().__init__() first")
        if name in self._buffers and (value is None or isinstance(value, np.ndarray)):
            # Rebinding a buffer (`self.num_batches_tracked += 1`, `.to(dtype)`) keeps it a buffer.
            self._buffers[name] = value
            object.__setattr__(self, name, value)
            return
        for table in (self._parameters, self._buffers, self._modules):
            table.pop(name, None)
        if isinstance(value, Parameter):
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        object.__setattr__(self, name, value)

    def register_buffer(self, name, array):
        """Registers a non-trainable array (None allowed) that belongs in the state_dict."""
        self._buffers[name] = None if array is None else np.asarray(array, order="C")  # keeps 0-d arrays 0-d
        object.__setattr__(self, name, self._buffers[name])

    def _set_buffer(self, name, array):
        self._buffers[name] = array
        object.__setattr__(self, name, array)

    # ---- the computation ----------------------------------------------------------------------
    def forward(self, x):
        raise NotImplementedError(f"{type(self).__name__} does not define forward")

    def backward(self, grad_out):
        raise NotImplementedError(f"{type(self).__name__} does not define backward")

    def __call__(self, x):
        return self.forward(x)

    # ---- traversal ----------------------------------------------------------------------------
    def children(self):
        return iter(self._modules.values())

    def named_children(self):
        return iter(self._modules.items())

    def named_modules(self, prefix=""):
        yield prefix, self
        for name, child in self._modules.items():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name)

    def modules(self):
        for _, m in self.named_modules():
            yield m

    def named_parameters(self, prefix=""):
        for mod_name, mod in self.named_modules(prefix):
            for name, p in mod._parameters.items():
                yield (f"{mod_name}.{name}" if mod_name else name), p

    def parameters(self):
        return [p for _, p in self.named_parameters()]

    def named_buffers(self, prefix=""):
        for mod_name, mod in self.named_modules(prefix):
            for name, b in mod._buffers.items():
                if b is not None:
                    yield (f"{mod_name}.{name}" if mod_name else name), b

    # ---- modes and gradients -------------------------------------------------------------------
    def train(self, mode=True):
        """Training mode (dropout active, batch statistics in BatchNorm); returns self."""
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self):
        """Evaluation mode: dropout off, BatchNorm uses its running statistics; returns self."""
        return self.train(False)

    def zero_grad(self):
        for p in self.parameters():
            p.zero_grad()

    # ---- dtype --------------------------------------------------------------------------------
    @property
    def dtype(self):
        for p in self.parameters():
            return p.dtype
        return np.dtype(np.float32)

    def to(self, dtype):
        """Converts every parameter and floating buffer to float32 or float64 (gradients reset)."""
        dtype = np.dtype(dtype)
        if dtype not in (np.float32, np.float64):
            raise ValueError(f"to: expected float32 or float64, got {dtype}")
        for m in self.modules():
            for p in m._parameters.values():
                p.data = p.data.astype(dtype)
                p.grad = np.zeros_like(p.data)
            for name, b in list(m._buffers.items()):
                if b is not None and b.dtype.kind == "f":
                    m._set_buffer(name, b.astype(dtype))
        return self

    # ---- state --------------------------------------------------------------------------------
    def state_dict(self):
        """Parameters and buffers by PyTorch-style dotted names ("0.weight", "2.block.1.running_mean")."""
        state = OrderedDict()
        for name, p in self.named_parameters():
            state[name] = p.data
        for name, b in self.named_buffers():
            state[name] = b
        return state

    def load_state_dict(self, state, strict=True):
        """Copies arrays into this model's parameters and buffers, checking names and shapes.

        Raises ValueError naming missing, unexpected and wrongly shaped keys. Nothing is changed unless
        every key checks out. As in PyTorch, each module may first complete or translate its own keys
        (``_upgrade_state``: BatchNorm accepts a state without ``num_batches_tracked``), and a (1,) array
        loads into a 0-d parameter or buffer (files written before 0-d arrays were kept 0-d).
        """
        state = OrderedDict(state)  # the hooks below may add keys; never change the caller's dict
        for prefix, module in self.named_modules():
            module._upgrade_state(state, f"{prefix}." if prefix else "")
        own = OrderedDict(self.named_parameters())
        own_buffers = OrderedDict(self.named_buffers())
        expected = list(own) + list(own_buffers)
        missing = [k for k in expected if k not in state]
        unexpected = [k for k in state if k not in own and k not in own_buffers]
        problems = []
        if strict and missing:
            problems.append("missing keys: " + ", ".join(missing))
        if strict and unexpected:
            problems.append("unexpected keys: " + ", ".join(unexpected))
        for k in expected:
            if k in state:
                target = own[k].data if k in own else own_buffers[k]
                got = tuple(np.shape(state[k]))
                if got != target.shape and not (target.ndim == 0 and got == (1,)):
                    problems.append(f"{k}: expected shape {target.shape}, got {got}")
        if problems:
            raise ValueError("load_state_dict: " + "; ".join(problems))
        for k, p in own.items():
            if k in state:
                np.copyto(p.data, np.asarray(state[k]).reshape(p.data.shape), casting="same_kind")
        for k, b in own_buffers.items():
            if k in state:
                np.copyto(b, np.asarray(state[k]).reshape(b.shape), casting="unsafe")
        return self

    def _upgrade_state(self, state, prefix):
        """Adds or renames this module's own entries (keys starting with ``prefix``) of a state dict
        about to be loaded, in place; the counterpart of PyTorch's ``_load_from_state_dict`` hooks.
        Most modules have nothing to do."""

    # ---- seeing inside ------------------------------------------------------------------------
    def grad_norms(self):
        """L2 norm of each parameter's gradient by name: the data that shows vanishing or exploding gradients."""
        from .. import functional as F

        named = list(self.named_parameters())
        return OrderedDict(zip((n for n, _ in named), F.array_norms([p.grad for _, p in named])))

    def weight_norms(self):
        """L2 norm of each parameter by name."""
        from .. import functional as F

        named = list(self.named_parameters())
        return OrderedDict(zip((n for n, _ in named), F.array_norms([p.data for _, p in named])))

    # ---- printing -----------------------------------------------------------------------------
    def extra_repr(self):
        return ""

    def __repr__(self):
        lines = [f"{type(self).__name__}({self.extra_repr()}"]
        if self._modules:
            for name, child in self._modules.items():
                child_repr = repr(child).replace("\n", "\n  ")
                lines.append(f"\n  ({name}): {child_repr}")
            lines.append("\n")
        return "".join(lines) + ")"
