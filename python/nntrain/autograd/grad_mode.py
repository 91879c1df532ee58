"""Whether operations on Tensors are recorded for backward: ``no_grad`` turns recording off, as in PyTorch.

The switch is one module-level flag rather than a thread-local: the kernels release the GIL but every op
is dispatched from the thread that trains, and DataLoader workers never touch Tensors.
"""

import functools


class _Mode:
    enabled = True
    tracer = None   # while a Tracer is active, every recorded call also keeps its inputs (see trace.py)


def is_grad_enabled():
    return _Mode.enabled


class set_grad_enabled:
    """Context manager (and decorator) that sets recording on or off, restoring the previous state after."""

    def __init__(self, mode):
        self.mode = bool(mode)
        self.previous = []

    def __enter__(self):
        self.previous.append(_Mode.enabled)
        _Mode.enabled = self.mode
        return self

    def __exit__(self, *exc):
        _Mode.enabled = self.previous.pop()
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with type(self)(self.mode) if type(self) is set_grad_enabled else type(self)():
                return fn(*args, **kwargs)

        return wrapper


class no_grad(set_grad_enabled):
    """``with nntrain.no_grad():`` or ``@nntrain.no_grad()``: nothing inside is recorded, so nothing inside
    can be differentiated and no intermediate arrays are kept (evaluation, manual parameter updates)."""

    def __init__(self):
        super().__init__(False)


class enable_grad(set_grad_enabled):
    """Recording on again inside a ``no_grad`` block."""

    def __init__(self):
        super().__init__(True)
