"""An identity op whose backward records that backward passed it: tests of when hooks run during backward
(tests/test_autograd_engine.py, tests/distributed_worker.py) put it between layers."""

from nntrain.autograd import Function


def probe(events, mark="probe"):
    """A Function whose forward is the identity and whose backward appends ``mark`` to ``events``."""

    class Probe(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1.0

        @staticmethod
        def backward(ctx, g):
            events.append(mark)
            return g

    return Probe
