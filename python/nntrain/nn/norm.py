"""Batch normalisation: normalise each channel by batch statistics while training, by running averages
in evaluation; then scale by weight (gamma) and shift by bias (beta)."""

import numpy as np

from .. import functional as F
from .linear import _shape_text
from .module import Module, Parameter


class _BatchNorm(Module):
    _input_ndim = None  # 2 for BatchNorm1d, 4 for BatchNorm2d

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 *, dtype=np.float32):
        super().__init__()
        if num_features < 1:
            raise ValueError(f"{type(self).__name__}: num_features must be >= 1, got {num_features}")
        if not eps > 0:
            raise ValueError(f"{type(self).__name__}: eps must be > 0, got {eps}")
        if not 0 <= momentum <= 1:
            raise ValueError(f"{type(self).__name__}: momentum must be in [0, 1], got {momentum}")
        self.num_features, self.eps, self.momentum = int(num_features), float(eps), float(momentum)
        self.affine, self.track_running_stats = bool(affine), bool(track_running_stats)
        self.weight = Parameter(np.ones(num_features, dtype=dtype)) if affine else None
        self.bias = Parameter(np.zeros(num_features, dtype=dtype)) if affine else None
        if track_running_stats:
            self.register_buffer("running_mean", np.zeros(num_features, dtype=dtype))
            self.register_buffer("running_var", np.ones(num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked", np.zeros((), dtype=np.int64))
        else:
            self.running_mean = self.running_var = None
        self.reset_parameters()

    @classmethod
    def infer_args(cls, input_shape):
        if len(input_shape) != cls._input_ndim - 1:
            shape = "(N, C)" if cls._input_ndim == 2 else "(N, C, H, W)"
            raise ValueError(f"expects input {shape} but receives {_shape_text(input_shape)}")
        return {"num_features": int(input_shape[0])}

    def reset_parameters(self, rng=None):
        """weight 1, bias 0, running statistics of a standard normal."""
        if self.affine:
            self.weight.data.fill(1)
            self.bias.data.fill(0)
        if self.track_running_stats:
            self.running_mean.fill(0)
            self.running_var.fill(1)
            self.num_batches_tracked[...] = 0

    def _upgrade_state(self, state, prefix):
        # PyTorch's rule for a state without version metadata (a safetensors file, a plain dict): a
        # missing num_batches_tracked (older PyTorch did not save it) keeps this module's own count.
        key = prefix + "num_batches_tracked"
        if self.track_running_stats and key not in state:
            state[key] = self.num_batches_tracked.copy()

    def forward(self, x, relu=False, max_pool=False):
        """relu=True: max(batch_norm(x), 0) in one pass, for a ReLU that follows (Sequential fuses them);
        with max_pool=True too, images then go through a 2x2 max-pool of stride 2 in the same pass."""
        if x.ndim != self._input_ndim or x.shape[1] != self.num_features:
            shape = "(N, C)" if self._input_ndim == 2 else "(N, C, H, W)"
            raise ValueError(f"{type(self).__name__}({self.num_features}): expected input {shape} with "
                             f"C={self.num_features}, got {tuple(x.shape)}")
        if max_pool and (not relu or self._input_ndim != 4):
            raise ValueError(f"{type(self).__name__}: max_pool=True fuses a ReLU and a 2x2 max-pool after a "
                             "BatchNorm2d; it needs relu=True")
        use_batch_stats = self.training or not self.track_running_stats
        if use_batch_stats and self.track_running_stats:
            self.num_batches_tracked += 1
        if max_pool:
            return F.batch_norm_relu_max_pool2d(x, self.running_mean, self.running_var, self.weight, self.bias,
                                                training=use_batch_stats, momentum=self.momentum, eps=self.eps)
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            training=use_batch_stats, momentum=self.momentum, eps=self.eps, relu=relu)

    def extra_repr(self):
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}"


class BatchNorm1d(_BatchNorm):
    """Over (N, C) features."""

    _input_ndim = 2


class BatchNorm2d(_BatchNorm):
    """Over (N, C, H, W) images, one statistic per channel."""

    _input_ndim = 4


class LayerNorm(Module):
    """Normalise over the trailing dims ``normalized_shape`` of each sample by its own mean and (biased)
    variance, then scale by weight and shift by bias (elementwise, of shape normalized_shape): the same in
    training and evaluation, and independent of the batch."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, *, dtype=np.float32):
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) else tuple(normalized_shape)
        if not shape or any(int(d) < 1 for d in shape):
            raise ValueError(f"LayerNorm: normalized_shape must be positive sizes, got {normalized_shape!r}")
        if not eps > 0:
            raise ValueError(f"LayerNorm: eps must be > 0, got {eps}")
        self.normalized_shape = tuple(int(d) for d in shape)
        self.eps, self.elementwise_affine = float(eps), bool(elementwise_affine)
        self.weight = Parameter(np.empty(self.normalized_shape, dtype=dtype)) if elementwise_affine else None
        self.bias = Parameter(np.empty(self.normalized_shape, dtype=dtype)) if elementwise_affine and bias else None
        self.reset_parameters()

    def reset_parameters(self, rng=None):
        """weight 1, bias 0: the plain normalisation."""
        if self.weight is not None:
            self.weight.data.fill(1)
        if self.bias is not None:
            self.bias.data.fill(0)

    def forward(self, x):
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
