"""ONNX export built with the `onnx` package alone (no PyTorch), verified against onnxruntime.

Each layer becomes the ONNX operator of the same meaning: Linear -> Gemm(transB=1) (weights keep PyTorch's
(out, in) layout), Conv2d -> Conv, MaxPool2d/AvgPool2d -> MaxPool/AveragePool, Flatten -> Flatten(axis=1),
BatchNorm -> BatchNormalization (running statistics, as in evaluation), ReLU/LeakyReLU/ELU/Sigmoid/Tanh/GELU ->
their operators, Softmax with temperature T -> Div(T) + Softmax, Residual -> the block's graph + Add,
Dropout -> nothing (the identity at inference). The batch dimension is dynamic.

The opset and IR version are pinned to what the supported onnxruntime loads: the `onnx` package's default IR
version can be newer than onnxruntime accepts.
"""

import numpy as np

from ..nn import (ELU, GELU, AvgPool2d, BatchNorm1d, BatchNorm2d, Conv2d, Dropout, Flatten, LeakyReLU, Linear,
                  MaxPool2d, ReLU, Residual, Sequential, Sigmoid, Softmax, Tanh)

OPSET = 21          # has Gelu (20+); onnxruntime 1.17 and later run it
IR_VERSION = 10     # the IR version of opset 21
TOLERANCE = 1e-5    # largest |onnxruntime - nntrain| / max(1, |nntrain|) accepted after export


class ExportError(ValueError):
    """A model that cannot be exported, or an export that does not reproduce the model."""


def _require_onnx():
    try:
        import onnx
    except ImportError:
        raise ExportError("ONNX export needs the onnx package: pip install 'nntrain[onnx]'") from None
    return onnx


class _GraphBuilder:
    """Accumulates nodes and initializers, handing out unique tensor names."""

    def __init__(self, onnx):
        self.onnx, self.helper, self.numpy_helper = onnx, onnx.helper, onnx.numpy_helper
        self.nodes, self.initializers, self.count = [], [], 0

    def name(self, hint):
        self.count += 1
        return f"{hint}_{self.count}"

    def constant(self, array, hint):
        name = self.name(hint)
        self.initializers.append(self.numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def node(self, op, inputs, hint, **attrs):
        out = self.name(hint)
        self.nodes.append(self.helper.make_node(op, inputs, [out], name=self.name(op), **attrs))
        return out


def _pads(padding):
    ph, pw = padding
    return [ph, pw, ph, pw]


def _conv_pads(layer):
    """ONNX's [top, left, bottom, right]; 'same' puts the odd zero after, as PyTorch pads."""
    if layer.padding == "valid":
        return [0, 0, 0, 0]
    if layer.padding == "same":
        total = [d * (k - 1) for k, d in zip(layer.kernel_size, layer.dilation)]
        return [t // 2 for t in total] + [t - t // 2 for t in total]
    return _pads(layer.padding)


def _emit(g, layer, x, path):
    """Appends `layer` applied to tensor `x`; returns the output tensor's name."""
    where = path or "model"
    if isinstance(layer, Sequential):
        for i, child in enumerate(layer):
            x = _emit(g, child, x, f"{path}.{i}" if path else str(i))
        return x
    if isinstance(layer, Residual):
        out = _emit(g, layer.block, x, f"{path}.block")
        skip = _emit(g, layer.projection, x, f"{path}.projection") if "projection" in layer._modules else x
        return g.node("Add", [out, skip], "residual")
    if isinstance(layer, Linear):
        inputs = [x, g.constant(layer.weight.data, f"{where}.weight")]
        if layer.bias is not None:
            inputs.append(g.constant(layer.bias.data, f"{where}.bias"))
        return g.node("Gemm", inputs, "linear", transB=1)
    if isinstance(layer, Conv2d):
        inputs = [x, g.constant(layer.weight.data, f"{where}.weight")]
        if layer.bias is not None:
            inputs.append(g.constant(layer.bias.data, f"{where}.bias"))
        return g.node("Conv", inputs, "conv", kernel_shape=list(layer.kernel_size), strides=list(layer.stride),
                      pads=_conv_pads(layer), dilations=list(layer.dilation), group=layer.groups)
    if isinstance(layer, MaxPool2d):
        return g.node("MaxPool", [x], "maxpool", kernel_shape=list(layer.kernel_size), strides=list(layer.stride),
                      pads=_pads(layer.padding), dilations=list(layer.dilation), ceil_mode=int(layer.ceil_mode))
    if isinstance(layer, AvgPool2d):
        return g.node("AveragePool", [x], "avgpool", kernel_shape=list(layer.kernel_size),
                      strides=list(layer.stride), pads=_pads(layer.padding),
                      count_include_pad=int(layer.count_include_pad), ceil_mode=int(layer.ceil_mode))
    if isinstance(layer, Flatten):
        return g.node("Flatten", [x], "flatten", axis=1)
    if isinstance(layer, (BatchNorm1d, BatchNorm2d)):
        if layer.running_mean is None:
            raise ExportError(f"{where}: BatchNorm without running statistics normalises with each batch's own "
                              "statistics, which ONNX inference cannot reproduce")
        c = layer.num_features
        dtype = layer.running_mean.dtype
        scale = layer.weight.data if layer.weight is not None else np.ones(c, dtype)
        shift = layer.bias.data if layer.bias is not None else np.zeros(c, dtype)
        inputs = [x, g.constant(scale, f"{where}.weight"), g.constant(shift, f"{where}.bias"),
                  g.constant(layer.running_mean, f"{where}.running_mean"),
                  g.constant(layer.running_var, f"{where}.running_var")]
        return g.node("BatchNormalization", inputs, "batchnorm", epsilon=float(layer.eps))
    if isinstance(layer, Dropout):
        return x
    if isinstance(layer, ReLU):
        return g.node("Relu", [x], "relu")
    if isinstance(layer, LeakyReLU):
        return g.node("LeakyRelu", [x], "leaky_relu", alpha=float(layer.negative_slope))
    if isinstance(layer, ELU):
        return g.node("Elu", [x], "elu", alpha=float(layer.alpha))
    if isinstance(layer, Sigmoid):
        return g.node("Sigmoid", [x], "sigmoid")
    if isinstance(layer, Tanh):
        return g.node("Tanh", [x], "tanh")
    if isinstance(layer, GELU):
        return g.node("Gelu", [x], "gelu", approximate=layer.approximate)
    if isinstance(layer, Softmax):
        t = g.constant(np.array(layer.temperature, dtype=np.float32), f"{where}.temperature")
        return g.node("Softmax", [g.node("Div", [x, t], "scaled")], "softmax", axis=-1)
    raise ExportError(f"{where}: cannot export a {type(layer).__name__} layer to ONNX")


def to_onnx(model, input_shape, path=None, check=True, seed=0):
    """The ONNX model (an onnx.ModelProto) of `model` for inputs (batch, *input_shape), float32.

    Writes it to `path` when given. With `check`, runs onnx.checker and compares onnxruntime's output with
    nntrain's own forward pass (evaluation mode) on random inputs; a difference above 1e-5 (relative to the
    output's size, floored at 1) is an ExportError.
    """
    onnx = _require_onnx()
    if model.dtype != np.float32:
        raise ExportError(f"export a float32 model (this one is {np.dtype(model.dtype).name}); use model.to(np.float32)")
    g = _GraphBuilder(onnx)
    helper, TensorProto = onnx.helper, onnx.TensorProto
    shape = ["batch"] + [int(d) for d in input_shape]
    output = _emit(g, model, "input", "")
    if output == "input":
        output = g.node("Identity", ["input"], "output")
    out_shape = ["batch"] + [int(d) for d in _output_shape(model, input_shape)]
    graph = helper.make_graph(g.nodes, "nntrain", [helper.make_tensor_value_info("input", TensorProto.FLOAT, shape)],
                              [helper.make_tensor_value_info(output, TensorProto.FLOAT, out_shape)], g.initializers)
    proto = helper.make_model(graph, producer_name="nntrain", opset_imports=[helper.make_opsetid("", OPSET)])
    proto.ir_version = IR_VERSION
    if check:
        onnx.checker.check_model(proto)
        verify(proto, model, input_shape, seed)
    if path is not None:
        from ..checkpoint import atomic_write_bytes

        atomic_write_bytes(path, proto.SerializeToString())
    return proto


def _output_shape(model, input_shape):
    was_training = model.training
    model.eval()
    try:
        return model(np.zeros((1,) + tuple(input_shape), np.float32)).shape[1:]
    finally:
        model.train(was_training)


def verify(proto, model, input_shape, seed=0):
    """Largest relative difference between onnxruntime and nntrain on random inputs; ExportError above 1e-5."""
    try:
        import onnxruntime as ort
    except ImportError:
        raise ExportError("checking the export needs onnxruntime: pip install 'nntrain[onnx]'") from None
    x = np.random.default_rng(seed).standard_normal((3,) + tuple(input_shape)).astype(np.float32)
    was_training = model.training
    model.eval()
    try:
        want = model(x)
    finally:
        model.train(was_training)
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    got = session.run(None, {"input": x})[0]
    if got.shape != want.shape:
        raise ExportError(f"onnxruntime gives outputs of shape {got.shape}, nntrain {want.shape}")
    diff = float(np.max(np.abs(got - want) / np.maximum(1.0, np.abs(want)))) if want.size else 0.0
    if not diff <= TOLERANCE:
        raise ExportError(f"onnxruntime's output differs from nntrain's by {diff:.3g} (more than {TOLERANCE:g})")
    return diff
