"""2-D convolution over NCHW images, weight (out_channels, in_channels, kh, kw) as in PyTorch."""

import numpy as np

from .. import functional as F
from ..functional._args import pair
from . import init
from .linear import _shape_text
from .module import Module, Parameter


class Conv2d(Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, bias=True,
                 *, rng=None, dtype=np.float32):
        super().__init__()
        if in_channels < 1 or out_channels < 1:
            raise ValueError(f"Conv2d: channels must be >= 1, got in={in_channels}, out={out_channels}")
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = pair(kernel_size, "kernel_size")
        self.stride = pair(stride, "stride")
        self.padding = pair(padding, "padding")
        self.dilation = pair(dilation, "dilation")
        self.weight = Parameter(np.empty((out_channels, in_channels) + self.kernel_size, dtype=dtype))
        self.bias = Parameter(np.empty(out_channels, dtype=dtype)) if bias else None
        self.reset_parameters(rng)

    @classmethod
    def infer_args(cls, input_shape):
        if len(input_shape) != 3:
            raise ValueError(f"expects input (N, C, H, W) but receives {_shape_text(input_shape)}")
        return {"in_channels": int(input_shape[0])}

    def reset_parameters(self, rng=None):
        """PyTorch's default: U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = in_channels * kh * kw."""
        init.default_init_(self.weight, self.bias, rng)

    def forward(self, x):
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"Conv2d({self.in_channels}, {self.out_channels}): expected input "
                             f"(N, {self.in_channels}, H, W), got {tuple(x.shape)}")
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation)

    def output_shape(self, input_shape):
        """(N, OC, OH, OW) for an input (N, C, H, W), without running the layer."""
        n, _, h, w = input_shape
        (kh, kw), (sh, sw), (ph, pw), (dh, dw) = self.kernel_size, self.stride, self.padding, self.dilation
        return (n, self.out_channels, (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1, (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1)

    def extra_repr(self):
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}, bias={self.bias is not None}")
