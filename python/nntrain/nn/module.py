"""Parameter and Module: the stateful layer of the network, with PyTorch's vocabulary.

A Module holds Parameters (tensors that require a gradient), buffers (arrays saved with the model but not
trained, such as BatchNorm's running statistics) and sub-modules, and defines ``forward``. Calling a module
on Tensors records every op for ``loss.backward()``, which applies the chain rule for you: write only
``forward``.

The explicit chain rule of the teaching material works too: called on a NumPy array, a module returns an
array and remembers the call, and ``module.backward(grad_out)`` returns d(loss)/d(input) and accumulates
into every parameter's ``.grad`` -- layer by layer, as ``model.backward(loss_fn.backward())``.
"""

from collections import OrderedDict

import numpy as np

from .. import _structure
from ..autograd.function import Function
from ..autograd.grad_mode import _Mode
from .._tensor import Tensor


class Parameter(Tensor):
    """A tensor that is a trainable weight of a Module: ``requires_grad=True``, registered on assignment."""

    __slots__ = ()

    def __init__(self, data, requires_grad=True):
        array = data.data if isinstance(data, Tensor) else np.asarray(data, order="C")  # not ascontiguousarray:
        if array.dtype not in (np.float32, np.float64):                                   # it makes 0-d into (1,)
            raise ValueError(f"Parameter: expected float32 or float64 data, got {array.dtype}")
        super().__init__(array if array.flags.c_contiguous else np.asarray(array, order="C"))
        self.requires_grad_(requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, protocol):
        return (Parameter, (self.data, self.requires_grad))


# Hooks every module runs around forward (``register_module_forward_hook``): how summary() sees each call.
_global_forward_hooks = OrderedDict()
_global_forward_pre_hooks = OrderedDict()


class _RemovableHandle:
    _next_id = 0

    def __init__(self, table):
        self.table, self.id = table, _RemovableHandle._next_id
        _RemovableHandle._next_id += 1
        _structure.changed()

    def remove(self):
        self.table.pop(self.id, None)
        _structure.changed()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def register_module_forward_hook(hook):
    """``hook(module, inputs, output)`` after every module's forward, until ``handle.remove()``."""
    handle = _RemovableHandle(_global_forward_hooks)
    _global_forward_hooks[handle.id] = hook
    return handle


def register_module_forward_pre_hook(hook):
    """``hook(module, inputs)`` before every module's forward, until ``handle.remove()``."""
    handle = _RemovableHandle(_global_forward_pre_hooks)
    _global_forward_pre_hooks[handle.id] = hook
    return handle


class Module:
    """Base class of every layer and network. Subclasses define ``forward`` (and, for layers with
    parameters, ``reset_parameters``); assigning a Parameter or a Module to an attribute registers it.

    A subclass may also define ``backward(grad_out) -> grad_in`` itself, the explicit chain rule over arrays:
    its forward then receives arrays and the tape calls its backward (see ``_ExplicitBackward``).
    """

    _explicit_backward = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._explicit_backward = cls.backward is not Module.backward

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())
        object.__setattr__(self, "training", True)
        # The array API only: False when nothing wants d(loss)/d(input) from backward(), so the first layer
        # skips that product. The tape knows this by itself (an input that does not require a gradient).
        object.__setattr__(self, "needs_input_grad", True)

    # ---- registration -------------------------------------------------------------------------
    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise RuntimeError(f"{type(self).__name__}.__init__ must call super().__init__() first")
        _structure.changed()
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

    def __delattr__(self, name):
        _structure.changed()
        for table in (self._parameters, self._buffers, self._modules):
            table.pop(name, None)
        object.__delattr__(self, name)

    def register_buffer(self, name, array):
        """Registers a non-trainable array (None allowed) that belongs in the state_dict."""
        self._buffers[name] = None if array is None else np.asarray(array, order="C")  # keeps 0-d arrays 0-d
        _structure.changed()
        object.__setattr__(self, name, self._buffers[name])

    def register_parameter(self, name, param):
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: '{name}' must be a Parameter or None, got {type(param).__name__}")
        setattr(self, name, param)

    def add_module(self, name, module):
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: '{name}' must be a Module, got {type(module).__name__}")
        setattr(self, name, module)

    register_module = add_module

    def _set_buffer(self, name, array):
        self._buffers[name] = array
        object.__setattr__(self, name, array)

    @classmethod
    def infer_args(cls, input_shape):
        """The constructor arguments this layer takes from the shape of its input (without the batch): how a
        network declared as a list of layers is sized. Raises ValueError when the shape cannot feed it."""
        return {}

    # ---- the computation ----------------------------------------------------------------------
    def forward(self, *inputs):
        raise NotImplementedError(f"{type(self).__name__} does not define forward(self, x)")

    def __call__(self, *args, **kwargs):
        if args and type(args[0]) is np.ndarray:
            return self._call_on_arrays(args, kwargs)
        if self._forward_hooks or _global_forward_hooks or _global_forward_pre_hooks:
            return self._call_with_hooks(args, kwargs)
        if self._explicit_backward:
            return _ExplicitBackward.apply(args[0], module=self)
        return self.forward(*args, **kwargs)

    def _call_with_hooks(self, args, kwargs):
        for hook in list(_global_forward_pre_hooks.values()):
            hook(self, args)
        if self._explicit_backward:
            out = _ExplicitBackward.apply(args[0], module=self)
        else:
            out = self.forward(*args, **kwargs)
        for hook in list(_global_forward_hooks.values()) + list(self._forward_hooks.values()):
            result = hook(self, args, out)
            if result is not None:
                out = result
        return out

    def register_forward_hook(self, hook):
        """``hook(module, inputs, output)`` after each forward of this module; it may return a new output."""
        handle = _RemovableHandle(self._forward_hooks)
        self._forward_hooks[handle.id] = hook
        return handle

    # ---- the explicit chain rule over arrays ---------------------------------------------------
    def _call_on_arrays(self, args, kwargs):
        """module(array): the forward on Tensors, remembered for backward(), and the result as arrays."""
        x = Tensor(args[0])
        if _Mode.enabled and self.needs_input_grad and x.dtype.kind == "f":
            x.requires_grad_()
        out = self(x, *args[1:], **kwargs)
        result = out[0] if isinstance(out, tuple) else out
        if isinstance(result, Tensor) and result.requires_grad:
            object.__setattr__(self, "_array_call", (x, result))
        return _arrays(out)

    def backward(self, grad_out=None):
        """After ``module(array)``: applies the chain rule back through that call, accumulating into every
        parameter's ``.grad``, and returns d(loss)/d(input) (None when ``needs_input_grad`` is False).
        ``grad_out`` is d(loss)/d(output); it may be omitted for a scalar output such as a loss."""
        if self.__dict__.get("_explicit_input") is not None:
            call = self._record_again(self._explicit_input)
        else:
            call = self.__dict__.get("_array_call")
        if call is None:
            raise RuntimeError(
                f"{type(self).__name__}.backward: nothing to differentiate. backward(grad_out) follows a call "
                "on a NumPy array (y = module(x_array)); for a call on Tensors use loss.backward()")
        object.__setattr__(self, "_array_call", None)
        x, out = call
        out.backward(None if grad_out is None else np.asarray(grad_out, dtype=out.dtype))
        return x.grad if x.requires_grad else None

    def _record_again(self, x):
        """For ``super().backward(g)`` inside a hand-written backward: this module's forward once more, on a
        Tensor, recorded (the built-in chain rule of the layer being subclassed)."""
        from ..autograd.grad_mode import enable_grad

        x = Tensor(x, requires_grad=True)
        with enable_grad():
            out = self.forward(x)
        return x, out

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

    def get_submodule(self, target):
        module = self
        for part in target.split(".") if target else []:
            if part not in module._modules:
                raise AttributeError(f"{type(module).__name__} has no submodule '{part}' (in '{target}')")
            module = module._modules[part]
        return module

    def named_parameters(self, prefix=""):
        seen = set()
        for mod_name, mod in self.named_modules(prefix):
            for name, p in mod._parameters.items():
                if p is None or id(p) in seen:
                    continue  # a shared parameter is listed once, as in PyTorch
                seen.add(id(p))
                yield (f"{mod_name}.{name}" if mod_name else name), p

    def parameters(self):
        return [p for _, p in self.named_parameters()]

    def named_buffers(self, prefix=""):
        for mod_name, mod in self.named_modules(prefix):
            for name, b in mod._buffers.items():
                if b is not None:
                    yield (f"{mod_name}.{name}" if mod_name else name), b

    def buffers(self):
        return [b for _, b in self.named_buffers()]

    def apply(self, fn):
        """Calls fn(module) on every sub-module, then on this one (as torch.nn.Module.apply); returns self."""
        for child in self._modules.values():
            child.apply(fn)
        fn(self)
        return self

    # ---- modes and gradients -------------------------------------------------------------------
    def train(self, mode=True):
        """Training mode (dropout active, batch statistics in BatchNorm); returns self."""
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self):
        """Evaluation mode: dropout off, BatchNorm uses its running statistics; returns self."""
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        """Freezes (False) or unfreezes every parameter; returns self."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Forgets the gradients: ``.grad`` becomes None (the next backward writes fresh ones), or zeros."""
        for p in self.parameters():
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad.fill(0)

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
                if p is not None:
                    p.data = p.data.astype(dtype)
                    p.grad = None
            for name, b in list(m._buffers.items()):
                if b is not None and b.dtype.kind == "f":
                    m._set_buffer(name, b.astype(dtype))
        return self

    def float(self):
        return self.to(np.float32)

    def double(self):
        return self.to(np.float64)

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
                np.copyto(p.data, np.asarray(getattr(state[k], "data", state[k])).reshape(p.data.shape),
                          casting="same_kind")
        for k, b in own_buffers.items():
            if k in state:
                np.copyto(b, np.asarray(getattr(state[k], "data", state[k])).reshape(b.shape), casting="unsafe")
        return self

    def _upgrade_state(self, state, prefix):
        """Adds or renames this module's own entries (keys starting with ``prefix``) of a state dict
        about to be loaded, in place; the counterpart of PyTorch's ``_load_from_state_dict`` hooks.
        Most modules have nothing to do."""

    # ---- seeing inside ------------------------------------------------------------------------
    def grad_norms(self):
        """L2 norm of each parameter's gradient by name (0 where there is none yet): the data that shows
        vanishing or exploding gradients."""
        from .. import functional as F

        named = list(self.named_parameters())
        norms = F.array_norms([p.grad if p.grad is not None else np.zeros(0, p.dtype) for _, p in named])
        return OrderedDict(zip((n for n, _ in named), norms))

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


class _ExplicitBackward(Function):
    """A module with a hand-written ``backward(grad_out)`` inside a recorded graph: forward runs the module on
    the input array; backward calls the module's own backward, which accumulates into its parameters'
    ``.grad`` (zero-filled first, since the tape leaves unused gradients as None).

    Such a module keeps what its backward needs on itself (``self.x = x``), so a second call would overwrite
    the first's. Each call's Context keeps the attributes its forward set, and its backward runs with them put
    back: a module used twice in one graph gets two correct contributions. Its backward is user code, so the
    engine does not take it on trust (``trusted = False``): it may write into the gradient it is given.
    """

    trusted = False

    @staticmethod
    def forward(ctx, x, module):
        before = dict(module.__dict__)
        out = module.forward(x)
        ctx.module = module
        ctx.save_for_backward(x)  # an in-place change of x before backward is caught
        ctx.state = {k: v for k, v in module.__dict__.items() if before.get(k, _UNSET) is not v}
        return np.asarray(out.data if isinstance(out, Tensor) else out)

    @staticmethod
    def backward(ctx, grad_out):
        module = ctx.module
        (x,) = ctx.saved_tensors
        for p in module.parameters():
            if p.grad is None:
                p.grad = np.zeros_like(p.data)
        current = {k: module.__dict__.get(k, _UNSET) for k in ctx.state}
        module.__dict__.update(ctx.state)
        object.__setattr__(module, "_explicit_input", x)  # what super().backward(g) differentiates
        try:
            return module.backward(grad_out)
        finally:
            object.__setattr__(module, "_explicit_input", None)
            for k, v in current.items():
                if v is _UNSET:
                    module.__dict__.pop(k, None)
                else:
                    module.__dict__[k] = v


_UNSET = object()


def _arrays(out):
    if isinstance(out, Tensor):
        return out.data
    if isinstance(out, tuple):
        return tuple(_arrays(o) for o in out)
    return out
