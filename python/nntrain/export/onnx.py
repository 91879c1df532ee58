"""ONNX export built with the `onnx` package alone (no PyTorch), verified against onnxruntime.

Any model exports: its forward runs once under a Tracer (evaluation mode), and every recorded op becomes the
ONNX operator of the same meaning: linear -> Gemm(transB=1) (weights keep PyTorch's (out, in) layout),
conv2d -> Conv, the pools -> MaxPool/AveragePool, a flattening reshape -> Flatten(axis=1), batch_norm ->
BatchNormalization (running statistics), the activations -> their operators, softmax with temperature T ->
Div(T) + Softmax, + - * / @ and the Tensor ops -> Add, Sub, Mul, Div, MatMul, Concat, Slice, ...; dropout is
the identity in evaluation and leaves nothing. An op without a mapping is an ExportError naming it and the
layer that called it. The batch dimension is dynamic.

The opset and IR version are pinned to what the supported onnxruntime loads: the `onnx` package's default IR
version can be newer than onnxruntime accepts.
"""

import numpy as np

from ..autograd.grad_mode import no_grad

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
        # asarray(order="C") keeps a scalar (Softmax's temperature) a 0-d tensor; ascontiguousarray would not.
        self.initializers.append(self.numpy_helper.from_array(np.asarray(array, order="C"), name))
        return name

    def node(self, op, inputs, hint, **attrs):
        out = self.name(hint)
        self.nodes.append(self.helper.make_node(op, inputs, [out], name=self.name(op), **attrs))
        return out


def _pads(padding):
    ph, pw = padding
    return [ph, pw, ph, pw]


TRACE_BATCH = 2  # the batch the model is traced with; that dimension becomes the graph's dynamic "batch"


def _graph(g, model, input_shape):
    """Runs the model once under a Tracer and emits every recorded op, inputs before users; returns the
    output's name. Parameters become initializers under their state-dict names."""
    from ..autograd.trace import Tracer
    from .._tensor import Tensor

    x = Tensor(np.zeros((TRACE_BATCH,) + tuple(input_shape), np.float32), requires_grad=True)
    with Tracer(model) as tracer:
        out = model(x)
    if not isinstance(out, Tensor):
        raise ExportError(f"{type(model).__name__}.forward returned {type(out).__name__}, expected a Tensor")
    params = {id(p): name for name, p in model.named_parameters()}
    names = {id(x): "input"}      # id(tensor) -> its name in the graph
    outputs = {}                  # Context -> names of its outputs
    keep = [x]                    # tensors named so far stay alive, so their ids stay theirs

    def name_of(t):
        if t.grad_fn is not None:
            return outputs[t.grad_fn][t._out_index]
        if id(t) not in names:
            names[id(t)] = g.constant(t.data, params.get(id(t), "constant"))
            keep.append(t)
        return names[id(t)]

    for ctx in _calls_in_order(out, tracer):
        args, kwargs, path = tracer.calls[ctx]
        emit = _EMITTERS.get(ctx.function)
        if emit is None:
            raise ExportError(f"layer {tracer.module_name(path)}: the op {ctx.name} has no ONNX mapping")
        ins = [name_of(a) if isinstance(a, Tensor) else (None if a is None else a) for a in args]
        try:
            result = emit(g, ins, args, kwargs)
        except ExportError as e:
            raise ExportError(f"layer {tracer.module_name(path)}: {e}") from None
        outputs[ctx] = result if isinstance(result, list) else [result]
    return name_of(out)


def _calls_in_order(out, tracer):
    """The traced Contexts that out depends on, each after the Contexts of its inputs."""
    from .._tensor import Tensor

    order, state, stack = [], {}, [out.grad_fn] if out.grad_fn is not None else []
    while stack:
        ctx = stack[-1]
        if state.get(ctx) == "done":
            stack.pop()
            continue
        if ctx not in tracer.calls:
            raise ExportError(f"the op {ctx.name} ran outside the traced forward")
        children = [a.grad_fn for a in tracer.calls[ctx][0] if isinstance(a, Tensor) and a.grad_fn is not None
                    and state.get(a.grad_fn) != "done"]
        if state.get(ctx) == "open" or not children:
            state[ctx] = "done"
            order.append(ctx)
            stack.pop()
        else:
            state[ctx] = "open"
            stack.extend(children)
    return order


# ---- one emitter per Function: (graph, input names, the call's inputs, its keyword arguments) -> output(s) ----
def _operand(g, name):
    """An input that may be a Python number (a scalar operand of + - * /): a float32 constant then."""
    return g.constant(np.array(name, np.float32), "scalar") if isinstance(name, (int, float)) else name


def _binary(op):
    return lambda g, ins, args, kw: g.node(op, [_operand(g, ins[0]), _operand(g, ins[1])], op.lower())


def _unary(op, **attrs):
    return lambda g, ins, args, kw: g.node(op, [ins[0]], op.lower(), **attrs)


def _linear(g, ins, args, kw):
    if args[0].ndim != 2:
        raise ExportError("linear of a non-matrix input")
    return g.node("Gemm", [n for n in ins if n is not None], "linear", transB=1)


def _conv(g, ins, args, kw):
    from ..functional._args import pair

    kernel = list(args[1].shape[2:])
    return g.node("Conv", [n for n in ins if n is not None], "conv", kernel_shape=kernel,
                  strides=list(pair(kw.get("stride", 1), "stride")), pads=_pads(pair(kw.get("padding", 0), "padding")),
                  dilations=list(pair(kw.get("dilation", 1), "dilation")), group=int(kw.get("groups", 1)))


def _pad(g, ins, args, kw):
    """F.pad's (before, after) per dim -> ONNX's [all befores, all afters] (padding='same' with an even kernel)."""
    widths = kw["widths"]
    pads = [b for b, _ in widths] + [a for _, a in widths]
    return g.node("Pad", [ins[0], g.constant(np.array(pads, np.int64), "pads"),
                          g.constant(np.array(kw.get("value", 0.0), np.float32), "value")], "pad", mode="constant")


def _window(kw):
    from ..functional.pool import _window as window

    return window(kw["kernel_size"], kw.get("stride"), kw.get("padding", 0))


def _max_pool(g, ins, args, kw):
    from ..functional._args import pair

    kernel, stride, padding = _window(kw)
    return [g.node("MaxPool", [ins[0]], "maxpool", kernel_shape=list(kernel), strides=list(stride),
                   pads=_pads(padding), dilations=list(pair(kw.get("dilation", 1), "dilation")),
                   ceil_mode=int(bool(kw.get("ceil_mode", False)))), None]


def _avg_pool(g, ins, args, kw):
    kernel, stride, padding = _window(kw)
    return g.node("AveragePool", [ins[0]], "avgpool", kernel_shape=list(kernel), strides=list(stride),
                  pads=_pads(padding), count_include_pad=int(kw.get("count_include_pad", True)),
                  ceil_mode=int(bool(kw.get("ceil_mode", False))))


def _adaptive_avg_pool(g, ins, args, kw):
    """out = A_h x A_w^T with the op's own averaging matrices: two MatMuls with constants."""
    from ..functional.pool import _averaging_matrix

    (oh, ow), (h, w) = kw["output_size"], args[0].shape[-2:]
    rows = g.node("MatMul", [g.constant(_averaging_matrix(h, oh).astype(np.float32), "pool_rows"), ins[0]], "pool")
    return g.node("MatMul", [rows, g.constant(_averaging_matrix(w, ow).T.astype(np.float32), "pool_cols")], "pool")


def _layer_norm(g, ins, args, kw):
    """LayerNormalization over the trailing dims that make up `size`; ONNX needs a scale, so 1 when none."""
    x, size = args[0], int(kw["size"])
    axis, count = x.ndim, 1
    while count < size:
        axis -= 1
        count *= x.shape[axis]
    shape = x.shape[axis:]
    scale = ins[1] if ins[1] is not None else g.constant(np.ones(shape, np.float32), "ln_weight")
    inputs = [ins[0], scale] + ([ins[2]] if ins[2] is not None else [])
    return g.node("LayerNormalization", inputs, "layernorm", axis=axis - x.ndim, epsilon=float(kw.get("eps", 1e-5)))


def _batch_norm(g, ins, args, kw):
    if kw.get("training") or kw.get("running_mean") is None:
        raise ExportError("BatchNorm without running statistics normalises with each batch's own statistics, "
                          "which ONNX inference cannot reproduce")
    c = args[0].shape[1]
    mean = kw["running_mean"]
    scale = ins[1] if ins[1] is not None else g.constant(np.ones(c, mean.dtype), "bn_weight")
    shift = ins[2] if ins[2] is not None else g.constant(np.zeros(c, mean.dtype), "bn_bias")
    out = g.node("BatchNormalization", [ins[0], scale, shift, g.constant(mean, "running_mean"),
                                        g.constant(kw["running_var"], "running_var")],
                 "batchnorm", epsilon=float(kw.get("eps", 1e-5)))
    return g.node("Relu", [out], "relu") if kw.get("relu") else out


def _activation(op, param_attr=None):
    def emit(g, ins, args, kw):
        attrs = {param_attr: float(kw.get("param", 0.0))} if param_attr else {}
        return g.node(op, [ins[0]], op.lower(), **attrs)

    return emit


def _softmax(op):
    def emit(g, ins, args, kw):
        x, t = ins[0], float(kw.get("temperature", 1.0))
        if t != 1.0:
            x = g.node("Div", [x, g.constant(np.array(t, np.float32), "temperature")], "scaled")
        return g.node(op, [x], op.lower(), axis=int(kw.get("dim", -1)))

    return emit


def _reshape(g, ins, args, kw):
    x, shape = args[0], list(kw["shape"])
    if x.ndim >= 2 and len(shape) == 2 and shape[0] in (TRACE_BATCH, -1) and shape[1] == int(np.prod(x.shape[1:])):
        return g.node("Flatten", [ins[0]], "flatten", axis=1)
    if shape and shape[0] == TRACE_BATCH and x.ndim and x.shape[0] == TRACE_BATCH:
        shape[0] = 0  # ONNX Reshape: copy the (dynamic) batch dimension from the input
    return g.node("Reshape", [ins[0], g.constant(np.array(shape, np.int64), "shape")], "reshape")


def _transpose(g, ins, args, kw):
    if "dims" in kw:
        perm = [d % args[0].ndim for d in kw["dims"]]
    else:
        perm = list(range(args[0].ndim))
        a, b = kw["dim0"] % args[0].ndim, kw["dim1"] % args[0].ndim
        perm[a], perm[b] = perm[b], perm[a]
    return g.node("Transpose", [ins[0]], "transpose", perm=perm)


def _reduce(op):
    def emit(g, ins, args, kw):
        dim = kw.get("dim")
        inputs = [ins[0]]
        if dim is not None:
            inputs.append(g.constant(np.array(dim, np.int64), "axes"))
        return g.node(op, inputs, op.lower(), keepdims=int(bool(kw.get("keepdim", False))))

    return emit


def _amax(g, ins, args, kw):
    return _reduce("ReduceMax" if kw.get("largest", True) else "ReduceMin")(g, ins, args, kw)


def _pow(g, ins, args, kw):
    return g.node("Pow", [ins[0], g.constant(np.array(kw["exponent"], np.float32), "exponent")], "pow")


def _clamp(g, ins, args, kw):
    low, high = kw.get("low"), kw.get("high")
    bound = [g.constant(np.array(v, np.float32), "bound") if v is not None else "" for v in (low, high)]
    return g.node("Clip", [ins[0]] + bound, "clip")


def _concat(g, ins, args, kw):
    return g.node("Concat", list(ins), "concat", axis=int(kw.get("dim", 0)))


def _stack(g, ins, args, kw):
    axis = int(kw.get("dim", 0)) % (args[0].ndim + 1)
    axes = g.constant(np.array([axis], np.int64), "axes")
    return g.node("Concat", [g.node("Unsqueeze", [n, axes], "unsqueeze") for n in ins], "stack", axis=axis)


def _split(g, ins, args, kw):
    sizes = kw["sizes"]
    outs = [g.name("split") for _ in sizes]
    g.nodes.append(g.helper.make_node("Split", [ins[0], g.constant(np.array(sizes, np.int64), "sizes")], outs,
                                      name=g.name("Split"), axis=int(kw.get("dim", 0))))
    return outs


def _get_item(g, ins, args, kw):
    import numbers

    index = kw["index"]
    parts = index if isinstance(index, tuple) else (index,)
    if any(p is Ellipsis or p is None for p in parts) or not all(
            isinstance(p, (slice, numbers.Integral)) for p in parts):
        raise ExportError(f"indexing with {index!r} has no ONNX mapping here (slices and integers only)")
    x, name, gathered = args[0], ins[0], []
    starts, ends, axes, steps = [], [], [], []
    for axis, p in enumerate(parts):
        if isinstance(p, slice):
            start, stop, step = p.indices(x.shape[axis])
            if (start, stop, step) != (0, x.shape[axis], 1):
                if axis == 0:
                    raise ExportError("slicing the batch dimension has no ONNX mapping with a dynamic batch")
                starts, ends, axes, steps = starts + [start], ends + [stop], axes + [axis], steps + [step]
        else:
            gathered.append((axis, int(p)))
    if axes:
        consts = [g.constant(np.array(v, np.int64), "slice") for v in (starts, ends, axes, steps)]
        name = g.node("Slice", [name] + consts, "slice")
    for axis, i in reversed(gathered):
        name = g.node("Gather", [name, g.constant(np.array(i, np.int64), "index")], "gather", axis=axis)
    return name


def _emitters():
    from .. import ops
    from ..functional import activation as act
    from ..functional.conv import Conv2d
    from ..functional.linear import Linear
    from ..functional.norm import BatchNorm, LayerNorm
    from ..functional.pad import Pad
    from ..functional.pool import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d

    return {
        Linear: _linear, Conv2d: _conv, MaxPool2d: _max_pool, AvgPool2d: _avg_pool, BatchNorm: _batch_norm,
        Pad: _pad, AdaptiveAvgPool2d: _adaptive_avg_pool, LayerNorm: _layer_norm,
        act.ReLU: _activation("Relu"), act.LeakyReLU: _activation("LeakyRelu", "alpha"),
        act.ELU: _activation("Elu", "alpha"), act.Sigmoid: _activation("Sigmoid"), act.Tanh: _activation("Tanh"),
        act.GELU: lambda g, ins, args, kw: g.node("Gelu", [ins[0]], "gelu", approximate="none"),
        act.GELUTanh: lambda g, ins, args, kw: g.node("Gelu", [ins[0]], "gelu", approximate="tanh"),
        act.Softmax: _softmax("Softmax"), act.LogSoftmax: _softmax("LogSoftmax"),
        ops.Add: _binary("Add"), ops.Sub: _binary("Sub"), ops.Mul: _binary("Mul"), ops.Div: _binary("Div"),
        ops.MatMul: _binary("MatMul"), ops.Neg: _unary("Neg"), ops.Pow: _pow, ops.Exp: _unary("Exp"),
        ops.Log: _unary("Log"), ops.Sqrt: _unary("Sqrt"), ops.Abs: _unary("Abs"), ops.Clamp: _clamp,
        ops.Clone: _unary("Identity"), ops.Reshape: _reshape, ops.Transpose: _transpose, ops.Permute: _transpose,
        ops.Sum: _reduce("ReduceSum"), ops.Mean: _reduce("ReduceMean"), ops.Amax: _amax, ops.Cat: _concat,
        ops.Stack: _stack, ops.Split: _split, ops.GetItem: _get_item,
    }


class _Emitters(dict):
    """The Function -> emitter table, built on first use (it imports every op module)."""

    def get(self, key, default=None):
        if not self:
            self.update(_emitters())
        return super().get(key, default)


_EMITTERS = _Emitters()


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
    was_training = model.training
    model.eval()
    try:
        output = _graph(g, model, input_shape)
    finally:
        model.train(was_training)
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
        with no_grad():
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
        with no_grad():
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
