"""The floating-point work of a training step, and the ceiling it sets on samples/s.

Counting rule (multiply-adds as two FLOPs; only the layers that run on the GEMM microkernel count):
    forward   Linear  2 * rows * in * out            rows = batch (x extra leading dims)
              ConvNd  2 * B * Hout * Wout * Cout * (Cin / groups) * kh * kw
              i.e. for both: 2 * weight.numel() * (output.numel() / out_channels)
    backward  twice the forward (the weight gradient and the input gradient, each a product of the forward's
              size), except the first such layer, whose input gradient nobody needs: once the forward.
Bias adds, activations, normalisation, pooling, the loss and the optimiser are left out: they are memory-bound
and small beside the products, so for products computed as counted the ceiling is an upper bound. A 3x3
convolution run by Winograd F(2x2, 3x3) multiplies 16 times for each 2x2 block of outputs where the count
above has 36, so a network of such layers may pass its ceiling, by at most 36 / 16 = 2.25 (the cnn's share
of it reached 104% on one thread of an AMD Zen 4).

The ceiling in samples/s is the microkernel's own peak rate (measured in L1 on one thread, times the threads)
divided by the FLOPs per sample; a library's share of it is its measured samples/s over that ceiling.
"""

import numpy as np

from nntrain import nn, summary

_COUNTED = (nn.Linear, nn.Conv1d, nn.Conv2d)
# The most a share of the ceiling can be: 1 for products computed as counted, 36 / 16 where every counted
# FLOP is a 3x3 convolution's that Winograd F(2x2, 3x3) computes with 16 multiplies for 36.
WINOGRAD_F2_SAVING = 36 / 16


def layer_forward_flops(module, output_shape):
    """2 x weight.numel() x (output elements per output channel) for a Linear or ConvNd call, else 0."""
    if not isinstance(module, _COUNTED):
        return 0
    out_channels = module.weight.shape[0]
    return 2 * module.weight.numel() * (int(np.prod(output_shape)) // out_channels)


def training_flops(model, input_shape, batch_size=1):
    """FLOPs of one forward + backward of `model` on a batch of `batch_size` inputs of `input_shape`."""
    modules = dict(model.named_modules())
    total, first = 0, True
    for row in summary(model, input_shape, batch_size).rows:
        forward = layer_forward_flops(modules[row.name], row.output_shape)
        if forward:
            total += forward + (forward if first else 2 * forward)
            first = False
    return total


def peak_gflops(threads):
    """The microkernel's in-L1 rate on one thread (measured now, best of three) times the threads: the rate
    "% peak" and "share of ceiling" are measured against."""
    from nntrain import _core

    return max(_core.ukernel_peak_gflops() for _ in range(3)) * threads


def ceiling_samples_per_second(flops_per_sample, peak_gflops):
    """Samples/s a step would reach if every counted FLOP ran at the microkernel's peak and nothing else cost."""
    return peak_gflops * 1e9 / flops_per_sample
