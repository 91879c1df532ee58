"""Whether operations on Tensors are recorded for backward: ``no_grad`` turns recording off, as in PyTorch.

The switch is one module-level flag rather than a thread-local: the kernels release the GIL but every op
is dispatched from the thread that trains, and DataLoader workers never touch Tensors.
"""

import functools
import inspect


class _Mode:
    enabled = True
    tracer = None   # while a Tracer is active, every recorded call also keeps its inputs (see trace.py)


def is_grad_enabled():
    return _Mode.enabled


class _GradMode:
    """A context manager that sets recording to ``self.mode`` and restores the previous state after (an
    exception included), and a decorator that does the same around every call of a function (around every
    step of a generator: between steps the caller's mode holds)."""

    mode = True

    def __enter__(self):
        self.__dict__.setdefault("previous", []).append(_Mode.enabled)  # a stack: one object may be entered twice
        _Mode.enabled = self.mode
        return self

    def __exit__(self, *exc):
        _Mode.enabled = self.previous.pop()
        return False

    def __call__(self, fn):
        mode = self.mode
        if inspect.isgeneratorfunction(fn):
            @functools.wraps(fn)
            def generator(*args, **kwargs):
                steps = fn(*args, **kwargs)
                sent = None
                while True:
                    with set_grad_enabled(mode):
                        try:
                            value = steps.send(sent)
                        except StopIteration as stop:
                            return stop.value
                    sent = yield value

            return generator

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)

        return wrapper


class set_grad_enabled(_GradMode):
    """``set_grad_enabled(False)`` switches recording off at once (as a plain call, as in PyTorch); as a
    context manager or decorator it restores the previous state after."""

    def __init__(self, mode):
        self.mode = bool(mode)
        self.before = _Mode.enabled
        _Mode.enabled = self.mode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _Mode.enabled = self.before
        return False

    def __call__(self, fn):
        _Mode.enabled = self.before  # as a decorator it changes nothing until the function runs
        return super().__call__(fn)


class _Switch(_GradMode):
    """A switch to a fixed mode that is also a decorator with or without parentheses."""

    def __new__(cls, fn=None):
        switch = super().__new__(cls)
        return switch if fn is None else switch(fn)  # ``@no_grad`` hands the function straight in


class no_grad(_Switch):
    """``with nntrain.no_grad():``, ``@nntrain.no_grad()`` or ``@nntrain.no_grad``: nothing inside is recorded,
    so nothing inside can be differentiated and no intermediate arrays are kept (evaluation, manual parameter
    updates)."""

    mode = False


class enable_grad(_Switch):
    """Recording on again inside a ``no_grad`` block (``with``, ``@enable_grad()`` or ``@enable_grad``)."""

    mode = True
