"""Max and average pooling over NCHW images and NCL sequences, and adaptive average pooling: layers with
no parameters, each a forward over the functional op of the same name."""

from .. import functional as F
from ..functional._args import pair
from .module import Module


class _MaxPoolNd(Module):
    _to_size = None  # how a size argument becomes the layer's attribute (an int for 1-D, a pair for 2-D)

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__()
        size = type(self)._to_size
        self.kernel_size = size(kernel_size, "kernel_size")
        self.stride = self.kernel_size if stride is None else size(stride, "stride")
        self.padding = size(padding, "padding")
        self.dilation = size(dilation, "dilation")
        self.return_indices, self.ceil_mode = bool(return_indices), bool(ceil_mode)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class _AvgPoolNd(Module):
    _to_size = None

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
        super().__init__()
        size = type(self)._to_size
        self.kernel_size = size(kernel_size, "kernel_size")
        self.stride = self.kernel_size if stride is None else size(stride, "stride")
        self.padding = size(padding, "padding")
        self.ceil_mode, self.count_include_pad = bool(ceil_mode), bool(count_include_pad)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


def _single(value, name):
    if isinstance(value, (tuple, list)) and len(value) == 1:
        value = value[0]
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name}: expected an int or a 1-tuple, got {value!r}")
    return value


class MaxPool2d(_MaxPoolNd):
    _to_size = staticmethod(pair)

    def forward(self, x):
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                            self.return_indices)


class MaxPool1d(_MaxPoolNd):
    """Over (N, C, L): 2-D pooling of a unit height."""

    _to_size = staticmethod(_single)

    def forward(self, x):
        return F.max_pool1d(x, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                            self.return_indices)


class AvgPool2d(_AvgPoolNd):
    _to_size = staticmethod(pair)

    def forward(self, x):
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad)


class AvgPool1d(_AvgPoolNd):
    """Over (N, C, L): 2-D pooling of a unit height."""

    _to_size = staticmethod(_single)

    def forward(self, x):
        return F.avg_pool1d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad)


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed output size (an int, or a pair whose None entries keep the input's size),
    whatever the input size: the windows start at floor(i H / OH) and end at ceil((i + 1) H / OH)."""

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, x):
        return F.adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"
