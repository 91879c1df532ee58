"""Convolutions over NCL sequences and NCHW images, weight (out_channels, in_channels / groups, *kernel) as
in PyTorch. _ConvNd holds what the two share (validation, parameters, init); each subclass only says how
many spatial dims it has and which functional op runs it."""

import numpy as np

from .. import functional as F
from ..functional._args import pair
from . import init
from .linear import _shape_text
from .module import Module, Parameter


def _single(value, name):
    if isinstance(value, (tuple, list)) and len(value) == 1:
        value = value[0]
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name}: expected an int or a 1-tuple, got {value!r}")
    return (int(value),)


class _ConvNd(Module):
    _dims = None    # number of spatial dims
    _tuple = None   # int or tuple -> a tuple of _dims ints

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 padding_mode="zeros", *, rng=None, dtype=np.float32):
        super().__init__()
        name = type(self).__name__
        if in_channels < 1 or out_channels < 1:
            raise ValueError(f"{name}: channels must be >= 1, got in={in_channels}, out={out_channels}")
        if groups < 1 or in_channels % groups or out_channels % groups:
            raise ValueError(f"{name}: groups={groups} must divide in_channels={in_channels} and "
                             f"out_channels={out_channels}")
        if padding_mode != "zeros":
            raise ValueError(f"{name}: only padding_mode='zeros' is supported, got {padding_mode!r}")
        to_tuple = type(self)._tuple
        self.in_channels, self.out_channels, self.groups = int(in_channels), int(out_channels), int(groups)
        self.kernel_size = to_tuple(kernel_size, "kernel_size")
        self.stride = to_tuple(stride, "stride")
        self.dilation = to_tuple(dilation, "dilation")
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"{name}: padding must be an int, a tuple, 'same' or 'valid', got {padding!r}")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError(f"{name}: padding='same' is not supported for strided convolutions "
                                 f"(stride={self.stride})")
            self.padding = padding
        else:
            self.padding = to_tuple(padding, "padding")
        self.padding_mode = padding_mode
        shape = (out_channels, in_channels // groups) + self.kernel_size
        self.weight = Parameter(np.empty(shape, dtype=dtype))
        self.bias = Parameter(np.empty(out_channels, dtype=dtype)) if bias else None
        self.reset_parameters(rng)

    @classmethod
    def infer_args(cls, input_shape):
        if len(input_shape) != cls._dims + 1:
            layout = "(N, C, L)" if cls._dims == 1 else "(N, C, H, W)"
            raise ValueError(f"expects input {layout} but receives {_shape_text(input_shape)}")
        return {"in_channels": int(input_shape[0])}

    def reset_parameters(self, rng=None):
        """PyTorch's default: U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = in_channels / groups * prod(kernel)."""
        init.default_init_(self.weight, self.bias, rng)

    def _check_input(self, x):
        if x.ndim != self._dims + 2 or x.shape[1] != self.in_channels:
            layout = "(N, {}, L)" if self._dims == 1 else "(N, {}, H, W)"
            raise ValueError(f"{type(self).__name__}({self.in_channels}, {self.out_channels}): expected input "
                             f"{layout.format(self.in_channels)}, got {tuple(x.shape)}")

    def extra_repr(self):
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * self._dims:
            s += f", padding={self.padding!r}"
        if self.dilation != (1,) * self._dims:
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        return s + f", bias={self.bias is not None}"


class Conv1d(_ConvNd):
    """Over (N, C, L); conv2d of a unit height underneath."""

    _dims = 1
    _tuple = staticmethod(_single)

    def forward(self, x):
        self._check_input(x)
        padding = self.padding if isinstance(self.padding, str) else self.padding[0]
        return F.conv1d(x, self.weight, self.bias, self.stride[0], padding, self.dilation[0], self.groups)


class Conv2d(_ConvNd):
    """Over (N, C, H, W)."""

    _dims = 2
    _tuple = staticmethod(pair)

    def forward(self, x):
        self._check_input(x)
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)

    def output_shape(self, input_shape):
        """(N, OC, OH, OW) for an input (N, C, H, W), without running the layer."""
        n, _, h, w = input_shape
        if self.padding == "same":
            return (n, self.out_channels, h, w)
        (kh, kw), (sh, sw), (dh, dw) = self.kernel_size, self.stride, self.dilation
        ph, pw = (0, 0) if self.padding == "valid" else self.padding
        return (n, self.out_channels, (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1,
                (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1)
