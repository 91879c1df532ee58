"""Function: one differentiable op as a forward/backward pair, and Context: what one call of it recorded.

A Function works on NumPy arrays, exactly like the kernels it wraps::

    class Sigmoid(Function):
        @staticmethod
        def forward(ctx, x):
            y = _core.activation_forward("sigmoid", x)
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, dy):
            (y,) = ctx.saved_tensors
            return sigmoid_backward(dy, None, y)

``Sigmoid.apply(x)`` unwraps Tensors to their arrays, runs ``forward``, and, when an input requires a
gradient and recording is on, wraps the result in a Tensor whose ``grad_fn`` is this call's Context. A
layer used twice in one forward therefore gets two Contexts, each with its own saved arrays. With plain
arrays in, ``apply`` returns plain arrays and records nothing.

``backward(ctx, *output_grads)`` returns one gradient per positional input of ``forward`` (None for an input
that needs none: ``ctx.needs_input_grad[i]`` says which are wanted). Keyword arguments are constants. A
gradient in the broadcast shape of an input that forward broadcast is summed back to the input's shape by the
engine, as in PyTorch; any other shape, or a wrong number of gradients, is an error naming the Function.
"""

import numpy as np

from .grad_mode import _Mode


class Context:
    """The record of one call: the Function, where each input's gradient goes, and what backward needs."""

    __slots__ = ("function", "next_edges", "needs_input_grad", "_saved", "_versions", "_out_shapes", "_freed",
                 "__dict__")

    def __init__(self, function, needs_input_grad):
        self.function = function
        self.needs_input_grad = needs_input_grad
        self.next_edges = ()
        self._saved = ()
        self._versions = None
        self._out_shapes = ()
        self._freed = False

    # ---- what backward needs -----------------------------------------------------------------------
    def save_for_backward(self, *arrays):
        """Keeps arrays (inputs or outputs of forward) for backward; an in-place change of a saved input
        before backward is caught there."""
        self._saved = arrays

    @property
    def saved_tensors(self):
        """The arrays given to save_for_backward, checked against in-place changes since."""
        if self._freed:
            raise RuntimeError(_FREED_MESSAGE)
        if self._versions:
            for i, (t, version) in enumerate(self._versions):
                if t._version[0] != version:
                    raise RuntimeError(
                        f"one of the arrays needed to compute the gradient of {self.name} was modified by an "
                        f"in-place operation: a {t.dtype} tensor of shape {t.shape} is at version {t._version[0]}, "
                        f"expected version {version}; change it out of place (x = x + 1, not x += 1) or clone it")
        return self._saved

    def mark_dirty(self, *tensors):  # PyTorch's name; in-place Functions are not supported here
        raise RuntimeError(f"{self.name}: in-place Functions are not supported; return a new array")

    @property
    def name(self):
        return self.function.__name__

    def release(self):
        """Drops the saved arrays once backward has used them (unless the graph is retained)."""
        self._saved = ()
        self._versions = None
        self.__dict__.clear()
        self._freed = True

    def __repr__(self):
        return f"<{self.name}Backward>"


_FREED_MESSAGE = ("trying to backward through the graph a second time (or to read saved arrays after backward "
                  "freed them); call backward(retain_graph=True) the first time if you need to backward twice")


class Function:
    """Base of every differentiable op; subclasses define static ``forward(ctx, ...)`` and ``backward``."""

    # True when forward may return a view of its first input: the result then shares the input's version
    # counter, so an in-place change through either is seen by every backward that saved the other.
    view_of_input = False
    # True for ops on C++ kernels, which take C-contiguous arrays: tensor inputs and incoming gradients that
    # are strided views (a transpose's) are copied to contiguous ones first.
    contiguous_inputs = False
    # True for the library's own Functions, whose backward never writes into the gradients it is given (other
    # paths may share them) and returns arrays nothing else holds. A Function written elsewhere is not taken on
    # trust: the engine hands its backward copies and copies what it returns before it becomes a .grad.
    trusted = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "trusted" not in cls.__dict__:
            cls.trusted = cls.__module__.startswith("nntrain.")

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("a Function subclass must define forward(ctx, ...)")

    @staticmethod
    def backward(ctx, *grads):
        raise NotImplementedError("a Function subclass must define backward(ctx, *grads)")

    @classmethod
    def apply(cls, *args, **kwargs):
        raw = edges = None
        n = len(args)
        for i in range(n):
            a = args[i]
            if isinstance(a, Tensor):
                if raw is None:
                    raw = list(args)
                data = a.data
                if cls.contiguous_inputs and not data.flags.c_contiguous:
                    data = np.ascontiguousarray(data)
                raw[i] = data
                if a._requires_grad and _Mode.enabled:
                    if edges is None:
                        edges = [None] * n
                    node = a.grad_fn
                    edges[i] = (a, 0) if node is None else (node, a._out_index)
        if raw is None:  # arrays in, arrays out: nothing to record
            return cls.forward(Context(cls, _no_grads(n)), *args, **kwargs)
        if edges is None:
            result = _wrap(cls.forward(Context(cls, _no_grads(n)), *raw, **kwargs), None)
        else:
            ctx = Context(cls, tuple([e is not None for e in edges]))
            ctx.next_edges = edges
            if _Mode.tracer is not None:
                _Mode.tracer.record(ctx, args, kwargs)
            out = cls.forward(ctx, *raw, **kwargs)
            result = _wrap(out, ctx)
            if ctx._saved:
                _record_versions(ctx, args, result)
        if cls.view_of_input and isinstance(args[0], Tensor):
            _share_version(args[0], result)
        return result


_NO_GRADS = [(False,) * n for n in range(8)]


def _no_grads(n):
    return _NO_GRADS[n] if n < 8 else (False,) * n


def _wrap(out, ctx):
    """Tensors around forward's arrays; with a Context, the floating ones carry it as their grad_fn."""
    if type(out) is np.ndarray:
        if ctx is not None:
            ctx._out_shapes = (out.shape,)
            if out.dtype.kind == "f":
                return Tensor._make(out, ctx, 0, True)
        return Tensor._make(out, None, 0, False)
    if isinstance(out, tuple):
        out = tuple(o if type(o) is np.ndarray else np.asarray(o) for o in out)
        if ctx is not None:
            ctx._out_shapes = tuple(o.shape for o in out)
        return tuple(Tensor._make(o, ctx, i, True) if ctx is not None and o.dtype.kind == "f"
                     else Tensor._make(o, None, 0, False) for i, o in enumerate(out))
    return _wrap(np.asarray(out), ctx)


def _share_version(base, result):
    for t in result if isinstance(result, tuple) else (result,):
        if np.may_share_memory(t.data, base.data):
            t._version = base._version


def _record_versions(ctx, inputs, result):
    """The version of every tensor (input or output) whose array was saved: backward checks it is unchanged."""
    outputs = result if isinstance(result, tuple) else (result,)
    versions = []
    for a in ctx._saved:
        if a is None:
            continue
        for t in inputs:
            if isinstance(t, Tensor) and t.data is a:
                versions.append((t, t._version[0]))
                break
        else:
            for t in outputs:
                if t.data is a:
                    versions.append((t, t._version[0]))
                    break
    ctx._versions = versions


from .._tensor import Tensor  # noqa: E402  (_tensor.py's operators import the Functions defined above)
