"""Tracing: one forward run that keeps, for every recorded op, its inputs, its keyword arguments and the
module that called it, so the graph can be read back op by op (ONNX export does).

Training never pays for this: outside ``Tracer`` the recording keeps only what each backward needs.
"""

from .._tensor import Tensor
from .grad_mode import _Mode, enable_grad


class Tracer:
    """``with Tracer(model) as t: out = model(x)``; then ``t.calls[ctx]`` is (inputs, kwargs, module path)."""

    def __init__(self, model):
        self.model = model
        self.calls = {}
        self.path = []   # the modules being called, outermost first
        self.names = {id(m): name for name, m in model.named_modules()}

    def record(self, ctx, inputs, kwargs):
        self.calls[ctx] = (inputs, kwargs, self.path[-1] if self.path else "")

    def __enter__(self):
        from ..nn.module import register_module_forward_hook, register_module_forward_pre_hook

        self._hooks = [register_module_forward_pre_hook(self._enter_module),
                       register_module_forward_hook(self._leave_module)]
        self._grad = enable_grad()
        self._grad.__enter__()
        self._previous, _Mode.tracer = _Mode.tracer, self
        return self

    def __exit__(self, *exc):
        _Mode.tracer = self._previous
        self._grad.__exit__(*exc)
        for h in self._hooks:
            h.remove()
        return False

    def _enter_module(self, module, inputs):
        self.path.append(self.names.get(id(module), type(module).__name__))

    def _leave_module(self, module, inputs, output):
        self.path.pop()

    def module_name(self, path):
        """'3 (Linear)' for the module at that path."""
        module = self.model.get_submodule(path) if path else self.model
        return f"'{path or 'model'}' ({type(module).__name__})"


