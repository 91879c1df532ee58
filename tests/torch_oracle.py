"""What the PyTorch-oracle tests share (import only after conftest.import_torch): torch.nn twins of nntrain
modules and the float32 tolerance.

`torch_twin(module)` builds the torch.nn module of the same architecture and hyper-parameters, with the same
state_dict keys; `load_into_torch` copies nntrain's state into it (strict: every key and shape must match),
`state_from_torch` copies the other way as NumPy arrays.

Tolerance: RTOL = 1e-4 relative, plus 1e-5 of the array's largest magnitude for elements near zero. Both
libraries round in float32 (unit roundoff 6e-8) but sum in different orders (blocked GEMM against
oneDNN/MKL, our per-channel lanes against ATen's) and evaluate exp/erf/tanh/sqrt with different
approximations of a few ulp; the reductions in these tests are at most a few hundred terms long, so honest
differences stay near 1e-6 (the largest measured is about 1% of the tolerance), while a wrong formula,
index, scale or hyper-parameter is off by far more than 1e-4."""

import numpy as np
import torch

from nntrain import nn

RTOL = 1e-4


def assert_close(got, want, what, rtol=RTOL):
    want = np.asarray(want, dtype=np.float64)
    got = np.asarray(got)
    assert got.shape == want.shape, f"{what}: shape {got.shape}, torch {want.shape}"
    scale = float(np.abs(want).max()) if want.size else 0.0
    np.testing.assert_allclose(got, want, rtol=rtol, atol=0.1 * rtol * scale, err_msg=what)


class TorchResidual(torch.nn.Module):
    """nntrain's Residual: block(x) + x, or block(x) + projection(x)."""

    def __init__(self, block, projection=None):
        super().__init__()
        self.block = block
        if projection is not None:
            self.projection = projection

    def forward(self, x):
        return self.block(x) + (self.projection(x) if hasattr(self, "projection") else x)


class TorchSoftmax(torch.nn.Module):
    """nntrain's Softmax(temperature): torch's softmax of x / temperature over the last axis."""

    def __init__(self, temperature):
        super().__init__()
        self.temperature = temperature

    def forward(self, x):
        return torch.softmax(x / self.temperature, dim=-1)


def torch_twin(module):
    tnn = torch.nn
    if isinstance(module, nn.Sequential):
        return tnn.Sequential(*(torch_twin(m) for m in module))
    if isinstance(module, nn.Residual):
        projection = module.projection if "projection" in module._modules else None
        return TorchResidual(torch_twin(module.block), None if projection is None else torch_twin(projection))
    if isinstance(module, nn.Linear):
        return tnn.Linear(module.in_features, module.out_features, bias=module.bias is not None)
    if isinstance(module, nn.Conv2d):
        return tnn.Conv2d(module.in_channels, module.out_channels, module.kernel_size, stride=module.stride,
                          padding=module.padding, dilation=module.dilation, bias=module.bias is not None)
    if isinstance(module, nn.MaxPool2d):
        return tnn.MaxPool2d(module.kernel_size, module.stride, module.padding)
    if isinstance(module, nn.AvgPool2d):
        return tnn.AvgPool2d(module.kernel_size, module.stride, module.padding,
                             count_include_pad=module.count_include_pad)
    if isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
        cls = tnn.BatchNorm1d if isinstance(module, nn.BatchNorm1d) else tnn.BatchNorm2d
        return cls(module.num_features, eps=module.eps, momentum=module.momentum, affine=module.affine,
                   track_running_stats=module.track_running_stats)
    if isinstance(module, nn.LeakyReLU):
        return tnn.LeakyReLU(module.negative_slope)
    if isinstance(module, nn.ELU):
        return tnn.ELU(module.alpha)
    if isinstance(module, nn.GELU):
        return tnn.GELU(approximate=module.approximate)
    if isinstance(module, nn.Softmax):
        return TorchSoftmax(module.temperature)
    if isinstance(module, nn.Dropout):
        return tnn.Dropout(module.p)
    simple = {nn.Flatten: tnn.Flatten, nn.ReLU: tnn.ReLU, nn.Sigmoid: tnn.Sigmoid, nn.Tanh: tnn.Tanh}
    return simple[type(module)]()


def load_into_torch(twin, module):
    """Copies nntrain's parameters and buffers into its torch twin (strict) and sets the same mode."""
    twin.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in module.state_dict().items()})
    return twin.train(module.training)


def state_from_torch(twin):
    return {k: v.detach().numpy().copy() for k, v in twin.state_dict().items()}
