"""The model summary table: Layer | Input Shape | Output Shape | Param #, with parameter totals.

Shapes come from one real forward pass (in eval mode, batch of 1), so what the table shows is what the
model computes. The library does not print: ``str(summary(...))`` renders the table.
"""

from dataclasses import dataclass, field

import numpy as np

from .nn.module import Module


@dataclass
class SummaryRow:
    name: str          # dotted path, e.g. "2.block.0"
    layer: str         # class name and hyper-parameters, e.g. "Conv2d(1, 32, kernel_size=(3, 3), ...)"
    depth: int
    input_shape: tuple
    output_shape: tuple
    params: int        # this module's own parameters (children have their own rows)


@dataclass
class Summary:
    rows: list = field(default_factory=list)
    trainable: int = 0
    non_trainable: int = 0   # frozen parameters and buffers (BatchNorm running statistics)
    param_bytes: int = 0

    @property
    def total(self):
        return self.trainable + self.non_trainable

    def table(self):
        """Header and rows as lists of strings (the CLI renders them with rich)."""
        header = ["Layer", "Input Shape", "Output Shape", "Param #"]
        body = [[("  " * r.depth) + f"{r.name} {r.layer}", _shape(r.input_shape), _shape(r.output_shape),
                 f"{r.params:,}"] for r in self.rows]
        return header, body

    def totals(self):
        return [("Trainable params", f"{self.trainable:,}"), ("Non-trainable params", f"{self.non_trainable:,}"),
                ("Total params", f"{self.total:,}"), ("Parameter memory", _bytes(self.param_bytes))]

    def __str__(self):
        header, body = self.table()
        widths = [max(len(row[i]) for row in [header] + body) for i in range(4)]
        rule = "-" * (sum(widths) + 3 * 3)

        def line(cells):
            return " | ".join(c.ljust(w) if i < 3 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))

        out = [rule, line(header), rule] + [line(r) for r in body] + [rule]
        out += [f"{k}: {v}" for k, v in self.totals()]
        return "\n".join(out)


def _shape(shape):
    return "(" + ", ".join(["N"] + [str(d) for d in shape[1:]]) + ")" if shape else "-"


def _bytes(n):
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{n} B"
        n /= 1024


def _layer_text(m):
    extra = m.extra_repr()
    return f"{type(m).__name__}({extra})" if extra else type(m).__name__


def summary(model, input_shape, dtype=None):
    """Runs one forward pass on zeros of shape (1, *input_shape) and records every module's shapes.

    input_shape excludes the batch dimension, e.g. (1, 28, 28) for MNIST images or (64,) for features.
    Every module call is seen through forward hooks, so any network works, whatever its forward does.
    A layer whose input does not fit raises ValueError naming the layer and both shapes.
    """
    from .autograd.grad_mode import no_grad
    from .nn.module import register_module_forward_hook, register_module_forward_pre_hook
    from .tensor import Tensor

    if not isinstance(model, Module):
        raise TypeError(f"summary: expected a Module, got {type(model).__name__}")
    dtype = model.dtype if dtype is None else np.dtype(dtype)
    names = {id(m): name for name, m in model.named_modules()}
    rows, open_rows = [], []

    def before(m, inputs):
        name = names.get(id(m))
        if name is None or (m is model and list(model.children())):
            open_rows.append(None)
            return
        row = SummaryRow(name or type(m).__name__, _layer_text(m), name.count(".") if name else 0,
                         tuple(np.shape(inputs[0])) if inputs else (), (),
                         sum(p.numel() for p in m._parameters.values() if p is not None))
        rows.append(row)
        open_rows.append(row)

    def after(m, inputs, output):
        row = open_rows.pop()
        if row is not None:
            row.output_shape = tuple(np.shape(output[0] if isinstance(output, tuple) else output))

    was_training = model.training
    model.eval()
    try:
        with no_grad(), register_module_forward_pre_hook(before), register_module_forward_hook(after):
            model(Tensor(np.zeros((1,) + tuple(input_shape), dtype=dtype)))
    except ValueError as e:
        row = next((r for r in reversed(open_rows) if r is not None), None)
        if row is None:
            raise
        raise ValueError(f"layer {row.name} ({row.layer.split('(')[0]}) cannot take input {_shape(row.input_shape)}: {e}") from None
    finally:
        model.train(was_training)
    result = Summary(rows=rows)
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
    return result
