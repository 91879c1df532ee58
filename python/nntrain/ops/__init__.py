"""The Tensor operations that are not layers' ops: arithmetic, elementwise math, reductions, shapes,
indexing, joining. Each is a Function (forward/backward pair) over NumPy arrays."""

from .arithmetic import Add, Div, MatMul, Mul, Neg, Pow, Sub, matmul
from .indexing import Cat, GetItem, IndexPut, Split, Stack, cat, chunk, plain_index, split, stack
from .math import Abs, Cast, Clamp, Clone, Exp, Log, Sqrt
from .reduction import Amax, MaxAlong, Mean, Sum, arg_extreme, dims
from .shape import Expand, Permute, Reshape, Transpose, flatten, squeeze, unsqueeze

__all__ = ["Abs", "Add", "Amax", "Cast", "Cat", "Clamp", "Clone", "Div", "Exp", "Expand", "GetItem", "IndexPut",
           "Log", "MatMul", "MaxAlong", "Mean", "Mul", "Neg", "Permute", "Pow", "Reshape", "Split", "Sqrt", "Stack",
           "Sub", "Sum", "Transpose", "arg_extreme", "cat", "chunk", "dims", "flatten", "matmul", "plain_index",
           "split", "squeeze", "stack", "unsqueeze"]
