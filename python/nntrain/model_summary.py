"""The model summary table of the teaching material (PaddlePaddle's ``paddle.summary`` layout)::

    ---------------------------------------------------------------------------
     Layer (type)       Input Shape          Output Shape         Param #
    ===========================================================================
       Linear-1       [[10, 30000]]           [10, 100]          3,000,100
    ...
    Total params / Trainable params / Non-trainable params
    Input size (MB) / Forward/backward pass size (MB) / Params size (MB) / Estimated Total Size (MB)

Rows are the calls of leaf layers (layers without sub-layers) during one real forward pass, seen through
forward hooks, so any network is summarised, whatever its forward does; a layer called twice has two rows.
The library does not print: ``str(summary(...))`` renders the table.
"""

from dataclasses import dataclass, field

import numpy as np

from .nn.module import Module

MB = 1024.0 ** 2


@dataclass
class SummaryRow:
    name: str           # dotted path, e.g. "features.2"
    layer: str          # type numbered per type in call order, e.g. "Linear-1"
    input_shapes: list  # the shapes of the tensor inputs, batch included
    output_shape: list  # the output's shape (a list of shapes for a layer returning several tensors)
    params: int         # this layer's own parameters (counted at its first call only)


@dataclass
class Summary:
    rows: list = field(default_factory=list)
    trainable: int = 0
    non_trainable: int = 0   # frozen parameters and BatchNorm running statistics
    param_bytes: int = 0
    input_bytes: int = 0
    activation_bytes: int = 0   # every row's output, twice: the forward value and its gradient

    @property
    def total(self):
        return self.trainable + self.non_trainable

    def table(self):
        """Header and rows as lists of strings (the CLI renders them with rich)."""
        header = ["Layer (type)", "Input Shape", "Output Shape", "Param #"]
        body = [[r.layer, str([list(s) for s in r.input_shapes]), _shape_text(r.output_shape), f"{r.params:,}"]
                for r in self.rows]
        return header, body

    def totals(self):
        return [("Total params", f"{self.total:,}"), ("Trainable params", f"{self.trainable:,}"),
                ("Non-trainable params", f"{self.non_trainable:,}")]

    def sizes(self):
        """The memory estimate, in MB, as the material prints it."""
        total = self.input_bytes + self.activation_bytes + self.param_bytes
        return [("Input size (MB)", f"{self.input_bytes / MB:.2f}"),
                ("Forward/backward pass size (MB)", f"{self.activation_bytes / MB:.2f}"),
                ("Params size (MB)", f"{self.param_bytes / MB:.2f}"),
                ("Estimated Total Size (MB)", f"{total / MB:.2f}")]

    def __str__(self):
        header, body = self.table()
        widths = [max(len(row[i]) for row in [header] + body) + 4 for i in range(4)]
        rule, double = "-" * sum(widths), "=" * sum(widths)

        def line(cells):
            return "".join(c.center(w) for c, w in zip(cells, widths)).rstrip()

        out = [rule, line(header), double] + [line(r) for r in body] + [double]
        out += [f"{k}: {v}" for k, v in self.totals()] + [rule]
        out += [f"{k}: {v}" for k, v in self.sizes()] + [rule]
        return "\n".join(out)


def _shape_text(shape):
    return str([list(s) for s in shape]) if shape and isinstance(shape[0], tuple) else str(list(shape))


def _shapes(value):
    from ._tensor import Tensor

    if isinstance(value, (Tensor, np.ndarray)):
        return [tuple(value.shape)]
    if isinstance(value, (tuple, list)):
        return [s for v in value for s in _shapes(v)]
    return []


def summary(model, input_size, batch_size=1, dtype=None):
    """Runs one forward pass on zeros of shape (batch_size, *input_size) and records every leaf layer's call.

    input_size excludes the batch, e.g. (1, 28, 28) for MNIST images or (64,) for features. A layer whose
    input does not fit raises ValueError naming the layer and both shapes.
    """
    from .autograd.grad_mode import no_grad
    from .nn.module import register_module_forward_hook, register_module_forward_pre_hook
    from ._tensor import Tensor

    if not isinstance(model, Module):
        raise TypeError(f"summary: expected a Module, got {type(model).__name__}")
    if int(batch_size) < 1:
        raise ValueError(f"summary: batch_size must be >= 1, got {batch_size}")
    dtype = model.dtype if dtype is None else np.dtype(dtype)
    names = {id(m): name for name, m in model.named_modules()}
    rows, calls, per_type, counted = [], [], {}, set()

    def is_leaf(m):
        return not m._modules or any(p is not None for p in m._parameters.values())

    def before(m, inputs):
        calls.append((m, _shapes(inputs)))

    def after(m, inputs, output):
        m_, input_shapes = calls.pop()
        if not is_leaf(m) or id(m) not in names:
            return
        kind = type(m).__name__
        per_type[kind] = per_type.get(kind, 0) + 1
        params = 0 if id(m) in counted else sum(p.numel() for p in m._parameters.values() if p is not None)
        counted.add(id(m))
        out = _shapes(output)
        rows.append(SummaryRow(names[id(m)], f"{kind}-{per_type[kind]}", input_shapes,
                               out[0] if len(out) == 1 else out, params))

    x = np.zeros((int(batch_size),) + tuple(input_size), dtype=dtype)
    was_training = model.training
    model.eval()
    try:
        with no_grad(), register_module_forward_pre_hook(before), register_module_forward_hook(after):
            model(Tensor(x))
    except ValueError as e:
        if not calls:
            raise
        m, shapes = calls[-1]
        where = names.get(id(m), type(m).__name__) or "model"
        got = "(N, " + ", ".join(str(d) for d in shapes[0][1:]) + ")" if shapes else "?"
        raise ValueError(f"layer {where} ({type(m).__name__}) cannot take input {got}: {e}") from None
    finally:
        model.train(was_training)
    result = Summary(rows=rows, input_bytes=x.nbytes)
    for p in model.parameters():
        if p.requires_grad:
            result.trainable += p.numel()
        else:
            result.non_trainable += p.numel()
        result.param_bytes += p.data.nbytes
    for _, b in model.named_buffers():
        if b.dtype.kind == "f":
            result.non_trainable += b.size
            result.param_bytes += b.nbytes
    for r in rows:
        shapes = r.output_shape if r.output_shape and isinstance(r.output_shape[0], tuple) else [r.output_shape]
        result.activation_bytes += 2 * sum(int(np.prod(s)) for s in shapes) * dtype.itemsize
    return result
