"""Tensor: a NumPy array that remembers how it was computed, so that ``loss.backward()`` can apply the chain
rule for you.

Every differentiable operation on Tensors (``+``, ``@``, ``x.relu()``, ``F.conv2d(x, w)``, ``layer(x)``, ...)
is a :class:`~nntrain.autograd.Function` call. When one of its inputs requires a gradient, the result
carries the call's record (``grad_fn``): which backward to run and the arrays that backward needs for this
call. ``loss.backward()`` runs those records in reverse order and accumulates d(loss)/d(leaf) into ``.grad``
of every leaf tensor with ``requires_grad=True`` (the parameters).

The vocabulary is PyTorch's. The differences: ``.data`` and ``.grad`` are plain NumPy arrays (what the C++
kernels and the optimisers work on), and an in-place change of a tensor that is part of a recorded graph is
recorded out of place (views taken before it do not see it).
"""

import numbers
import operator
import sys
from collections import namedtuple

import numpy as np

from . import _structure
from .autograd.grad_mode import _Mode

_DTYPES = (np.float32, np.float64, np.int64, np.int32, np.bool_)
MaxResult = namedtuple("MaxResult", ["values", "indices"])


def _as_array(data, dtype=None):
    """The array a Tensor holds: float32 by default for Python floats (as PyTorch), int64 for Python ints."""
    if isinstance(data, Tensor):
        data = data.data
    if dtype is not None:
        return np.asarray(data, dtype=dtype)
    if isinstance(data, np.ndarray):
        return data
    array = np.asarray(data)
    if array.dtype == np.float64 and not isinstance(data, np.generic):
        array = array.astype(np.float32)
    elif array.dtype.kind in "iu":
        array = array.astype(np.int64)
    return array


def _data(x):
    return x.data if isinstance(x, Tensor) else x


def _bound(b):
    if isinstance(b, Tensor):
        if b._requires_grad and _Mode.enabled:
            raise TypeError("clamp: a bound that requires a gradient is not supported (its gradient would be "
                            "lost); pass bound.detach() if it is meant as a constant")
        return b.data
    return b


class Tensor:
    """An n-dimensional array with an optional gradient. ``Tensor(array)`` wraps without copying;
    :func:`nntrain.tensor` copies, as ``torch.tensor`` does."""

    __slots__ = ("data", "grad", "_requires_grad", "grad_fn", "_out_index", "_version", "_hooks", "__weakref__")
    __array_ufunc__ = None          # ndarray + Tensor defers to Tensor.__radd__, so the sum is recorded
    __hash__ = object.__hash__      # identity, so tensors can key dicts (optimiser state) despite __eq__

    def __init__(self, data, requires_grad=False, dtype=None):
        array = _as_array(data, dtype)
        if array.dtype.type not in _DTYPES:
            raise TypeError(f"Tensor: unsupported dtype {array.dtype} (float32, float64, int64, int32 or bool)")
        self.data = array
        self.grad = None
        self.grad_fn = None
        self._out_index = 0
        self._version = [0]
        self._hooks = None
        self._requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _make(cls, data, grad_fn, index, requires_grad):
        """The result of an op, without the checks of __init__ (the op made the array)."""
        t = object.__new__(Tensor)
        t.data = data
        t.grad = None
        t.grad_fn = grad_fn
        t._out_index = index
        t._version = [0]
        t._hooks = None
        t._requires_grad = requires_grad
        return t

    # ---- gradient bookkeeping ------------------------------------------------------------------------
    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        self.requires_grad_(value)

    def requires_grad_(self, requires_grad=True):
        """Marks a leaf tensor as one whose gradient backward should compute; returns self."""
        if self.grad_fn is not None:
            raise RuntimeError("requires_grad can only be changed on leaf tensors (not on the result of an "
                               "operation); use .detach() to make a new leaf")
        if requires_grad and self.data.dtype.kind != "f":
            raise RuntimeError(f"only floating-point tensors can require gradients, this one is {self.data.dtype}")
        self._requires_grad = bool(requires_grad)
        _structure.changed()
        return self

    @property
    def is_leaf(self):
        return self.grad_fn is None

    def backward(self, gradient=None, retain_graph=False):
        """Accumulates d(self)/d(leaf) into ``.grad`` of every leaf that requires a gradient. A non-scalar
        tensor needs ``gradient`` (d(loss)/d(self), of self's shape)."""
        from .autograd.engine import backward

        backward(self, gradient, retain_graph)

    def detach(self):
        """The same array as a new leaf that requires no gradient (shares memory and version)."""
        t = Tensor._make(self.data, None, 0, False)
        t._version = self._version
        return t

    def register_post_accumulate_grad_hook(self, hook):
        """``hook(tensor)`` runs once in each backward that reaches this leaf, as soon as its ``.grad`` holds
        that backward's whole contribution (while backward goes on with the rest of the graph)."""
        if self.grad_fn is not None:
            raise RuntimeError("post-accumulate-grad hooks can only be registered on leaf tensors")
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(hook)
        _structure.changed()
        hooks = self._hooks

        class Handle:
            def remove(self_handle):
                if hook in hooks:
                    hooks.remove(hook)
                    _structure.changed()

        return Handle()

    # ---- array facts ---------------------------------------------------------------------------------
    @property
    def shape(self):
        return self.data.shape

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def ndim(self):
        return self.data.ndim

    def dim(self):
        return self.data.ndim

    def size(self, dim=None):
        """The shape, or its length along ``dim`` (PyTorch's meaning; the element count is ``numel()``)."""
        return self.data.shape if dim is None else self.data.shape[dim]

    def numel(self):
        return self.data.size

    def __len__(self):
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self.data)

    def item(self):
        if self.data.size != 1:
            raise ValueError(f"item: only a tensor with one element can be converted to a number, this one has "
                             f"shape {self.shape}")
        return self.data.item()

    def numpy(self):
        """The array itself (no copy)."""
        return self.data

    def tolist(self):
        return self.data.tolist()

    def __array__(self, dtype=None, copy=None):
        if dtype is not None and dtype != self.data.dtype:
            return self.data.astype(dtype)
        return self.data.copy() if copy else self.data

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __bool__(self):
        if self.data.size != 1:
            raise RuntimeError(f"the truth value of a tensor with {self.data.size} elements is ambiguous")
        return bool(self.data)

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def __repr__(self):
        body = np.array2string(self.data, separator=", ", prefix="tensor(")
        extra = ""
        if self.data.dtype not in (np.float32, np.int64, np.bool_):
            extra += f", dtype={self.data.dtype}"
        if self.grad_fn is not None:
            extra += f", grad_fn={self.grad_fn!r}"
        elif self._requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    # ---- conversions -----------------------------------------------------------------------------------
    def to(self, dtype):
        """This tensor in another dtype (recorded: the gradient flows back in the original dtype)."""
        dtype = np.dtype(dtype)
        if dtype == self.data.dtype:
            return self
        return _ops.Cast.apply(self, dtype=dtype)

    def float(self):
        return self.to(np.float32)

    def double(self):
        return self.to(np.float64)

    def long(self):
        return self.to(np.int64)

    def clone(self):
        return _ops.Clone.apply(self)

    def contiguous(self):
        return self if self.data.flags.c_contiguous else self.clone()

    # ---- arithmetic, with NumPy broadcasting -----------------------------------------------------------
    def __add__(self, other):
        return _ops.Add.apply(self, other)

    def __radd__(self, other):
        return _ops.Add.apply(other, self)

    def __sub__(self, other):
        return _ops.Sub.apply(self, other)

    def __rsub__(self, other):
        return _ops.Sub.apply(other, self)

    def __mul__(self, other):
        return _ops.Mul.apply(self, other)

    def __rmul__(self, other):
        return _ops.Mul.apply(other, self)

    def __truediv__(self, other):
        return _ops.Div.apply(self, other)

    def __rtruediv__(self, other):
        return _ops.Div.apply(other, self)

    def __neg__(self):
        return _ops.Neg.apply(self)

    def __pos__(self):
        return self

    def __pow__(self, exponent):
        if isinstance(exponent, Tensor):
            raise TypeError("x ** y: the exponent must be a number (a tensor exponent is not differentiable "
                            "here; write exp(y * log(x)))")
        return _ops.Pow.apply(self, exponent=exponent)

    def __rpow__(self, base):
        if not isinstance(base, numbers.Real) or base <= 0:
            raise TypeError(f"base ** x: the base must be a positive number, got {base!r}")
        return (self * float(np.log(base))).exp()

    def __matmul__(self, other):
        return _ops.MatMul.apply(self, other)

    def __rmatmul__(self, other):
        return _ops.MatMul.apply(other, self)

    # ---- comparisons: boolean tensors without gradient ---------------------------------------------------
    def __eq__(self, other):
        return Tensor._make(self.data == _data(other), None, 0, False)

    def __ne__(self, other):
        return Tensor._make(self.data != _data(other), None, 0, False)

    def __lt__(self, other):
        return Tensor._make(self.data < _data(other), None, 0, False)

    def __le__(self, other):
        return Tensor._make(self.data <= _data(other), None, 0, False)

    def __gt__(self, other):
        return Tensor._make(self.data > _data(other), None, 0, False)

    def __ge__(self, other):
        return Tensor._make(self.data >= _data(other), None, 0, False)

    # ---- in place ------------------------------------------------------------------------------------------
    # In place as in PyTorch: the tensor's own memory is written, so every alias (a view, .numpy(), detach())
    # sees the new value, and its version moves on, so a backward that saved the old value refuses to run.
    # While recording, the op is computed out of place first and its record becomes the tensor's history.
    def _in_place(self, other, out_of_place, in_place, name):
        if _Mode.enabled and (self._requires_grad or (isinstance(other, Tensor) and other._requires_grad)):
            self._check_in_place_recordable(name)
            source = self
            if in_place in (operator.imul, operator.itruediv) and isinstance(other, Tensor) and other._requires_grad:
                # the other operand's gradient needs this tensor's value from before the change: a copy
                source = Tensor._make(self.data.copy(), self.grad_fn, self._out_index, self._requires_grad)
                other = source if other is self else other
            self._rebase(out_of_place(source, other), name)
            return self
        in_place(self.data, _data(other))  # the operator, not the ufunc: NumPy's fast path for a Python number
        self._version[0] += 1
        return self

    def _assign(self, index, value, name):
        """``self[index] = value`` (copy_ and fill_ too: the index is ``...``)."""
        if _Mode.enabled and (self._requires_grad or (isinstance(value, Tensor) and value._requires_grad)):
            self._check_in_place_recordable(name)
            self._rebase(_ops.IndexPut.apply(self, value, index=index), name)
            return self
        self.data[index] = _data(value)
        self._version[0] += 1
        return self

    def _check_in_place_recordable(self, name):
        if self.grad_fn is None and self._requires_grad:
            raise RuntimeError(
                f"{name}: a leaf tensor that requires grad (a parameter) is used in an in-place operation; update "
                "parameters inside `with nntrain.no_grad():`, or write the operation out of place")
        if _version_holders(self) > _ONE_HOLDER:
            raise RuntimeError(
                f"{name}: this tensor shares memory with another tensor that is still alive (it is a view such as "
                "x[0], x.T or x.reshape(...), a view was taken of it, or it was detach()ed); changing it in place "
                "while recording would leave the other's gradient wrong. Write the operation out of place "
                "(y = x + 1), or change a clone()")

    def _rebase(self, result, name):
        """Ends a recorded in-place op: result (computed out of place) written into this tensor's memory, the
        version moved on, and result's record made this tensor's history."""
        if result.data.shape != self.data.shape:
            raise ValueError(f"{name}: the result has shape {result.shape}, which does not fit the shape {self.shape} "
                             "of the tensor changed in place")
        np.copyto(self.data, result.data, casting="same_kind")
        self._version[0] += 1
        self.grad_fn, self._out_index, self._requires_grad = result.grad_fn, result._out_index, result._requires_grad
        _structure.changed()

    def __iadd__(self, other):
        return self._in_place(other, Tensor.__add__, operator.iadd, "+=")

    def __isub__(self, other):
        return self._in_place(other, Tensor.__sub__, operator.isub, "-=")

    def __imul__(self, other):
        return self._in_place(other, Tensor.__mul__, operator.imul, "*=")

    def __itruediv__(self, other):
        return self._in_place(other, Tensor.__truediv__, operator.itruediv, "/=")

    def add_(self, other, alpha=1):
        return self._in_place(other if alpha == 1 else other * alpha, Tensor.__add__, operator.iadd, "add_")

    def sub_(self, other, alpha=1):
        return self._in_place(other if alpha == 1 else other * alpha, Tensor.__sub__, operator.isub, "sub_")

    def mul_(self, other):
        return self._in_place(other, Tensor.__mul__, operator.imul, "mul_")

    def div_(self, other):
        return self._in_place(other, Tensor.__truediv__, operator.itruediv, "div_")

    def zero_(self):
        return self._assign(Ellipsis, 0, "zero_")

    def fill_(self, value):
        return self._assign(Ellipsis, value, "fill_")

    def copy_(self, src):
        return self._assign(Ellipsis, src, "copy_")

    def __setitem__(self, index, value):
        self._assign(_ops.plain_index(index), value, "x[index] = value")

    # ---- indexing and shapes -------------------------------------------------------------------------------
    def __getitem__(self, index):
        return _ops.GetItem.apply(self, index=_ops.plain_index(index))

    def reshape(self, *shape):
        shape = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        return _ops.Reshape.apply(self, shape=tuple(int(s) for s in shape))

    view = reshape

    def flatten(self, start_dim=0, end_dim=-1):
        return _ops.flatten(self, start_dim, end_dim)

    def unsqueeze(self, dim):
        return _ops.unsqueeze(self, dim)

    def squeeze(self, dim=None):
        return _ops.squeeze(self, dim)

    def transpose(self, dim0, dim1):
        return _ops.Transpose.apply(self, dim0=dim0, dim1=dim1)

    def permute(self, *dims):
        dims = dims[0] if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else dims
        return _ops.Permute.apply(self, dims=tuple(dims))

    @property
    def T(self):
        return _ops.Permute.apply(self, dims=tuple(reversed(range(self.ndim))))

    def expand(self, *shape):
        shape = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        return _ops.Expand.apply(self, shape=tuple(shape))

    def split(self, split_size_or_sections, dim=0):
        return _ops.split(self, split_size_or_sections, dim)

    def chunk(self, chunks, dim=0):
        return _ops.chunk(self, chunks, dim)

    # ---- reductions ------------------------------------------------------------------------------------------
    def sum(self, dim=None, keepdim=False):
        return _ops.Sum.apply(self, dim=_ops.dims(dim, self.ndim), keepdim=keepdim)

    def mean(self, dim=None, keepdim=False):
        return _ops.Mean.apply(self, dim=_ops.dims(dim, self.ndim), keepdim=keepdim)

    def max(self, dim=None, keepdim=False):
        """The largest value, or with ``dim`` (values, indices) along it, as ``torch.max``."""
        if dim is None:
            return _ops.Amax.apply(self, dim=None, keepdim=False)
        return MaxResult(*_ops.MaxAlong.apply(self, dim=dim, keepdim=keepdim, largest=True))

    def min(self, dim=None, keepdim=False):
        if dim is None:
            return _ops.Amax.apply(self, dim=None, keepdim=False, largest=False)
        return MaxResult(*_ops.MaxAlong.apply(self, dim=dim, keepdim=keepdim, largest=False))

    def amax(self, dim=None, keepdim=False):
        return _ops.Amax.apply(self, dim=_ops.dims(dim, self.ndim), keepdim=keepdim)

    def amin(self, dim=None, keepdim=False):
        return _ops.Amax.apply(self, dim=_ops.dims(dim, self.ndim), keepdim=keepdim, largest=False)

    def argmax(self, dim=None, keepdim=False):
        return Tensor._make(_ops.arg_extreme(self.data, dim, keepdim, np.argmax), None, 0, False)

    def argmin(self, dim=None, keepdim=False):
        return Tensor._make(_ops.arg_extreme(self.data, dim, keepdim, np.argmin), None, 0, False)

    # ---- elementwise math and activations ------------------------------------------------------------------
    def exp(self):
        return _ops.Exp.apply(self)

    def log(self):
        return _ops.Log.apply(self)

    def sqrt(self):
        return _ops.Sqrt.apply(self)

    def abs(self):
        return _ops.Abs.apply(self)

    def clamp(self, min=None, max=None):
        """Values clipped to [min, max]; either bound may be None, a number or a tensor (a constant)."""
        return _ops.Clamp.apply(self, low=_bound(min), high=_bound(max))

    clip = clamp

    def relu(self):
        return _F.relu(self)

    def sigmoid(self):
        return _F.sigmoid(self)

    def tanh(self):
        return _F.tanh(self)

    def softmax(self, dim=-1):
        return _F.softmax(self, dim)

    def log_softmax(self, dim=-1):
        return _F.log_softmax(self, dim)


def tensor(data, requires_grad=False, dtype=None):
    """A new tensor holding a copy of ``data`` (a number, nested lists, an array or a tensor). Python floats
    become float32 and ints int64, as in PyTorch; NumPy arrays keep their dtype."""
    array = np.array(_as_array(data, dtype), copy=True)
    return Tensor(array, requires_grad=requires_grad)


def is_tensor(x):
    return isinstance(x, Tensor)


def _version_holders(t):
    """References to t's version counter: one from every tensor that shares t's memory through a view or detach()
    (they share the counter), plus the constant overhead of this call, measured once below."""
    return sys.getrefcount(t._version)


_ONE_HOLDER = _version_holders(Tensor(np.zeros(0)))  # the count when t alone holds its counter


from . import ops as _ops  # noqa: E402  (the ops import Tensor)
from . import functional as _F  # noqa: E402
