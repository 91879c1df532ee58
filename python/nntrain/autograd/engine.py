"""Reverse-mode differentiation over the recorded graph: the chain rule, one Context at a time.

``backward(root, gradient)`` first counts, for every Context reachable from ``root``, how many edges lead
into it; then it runs the Contexts in reverse topological order (a Context runs once every consumer of its
outputs has delivered its gradient), summing the gradients that reach one output along several paths and
accumulating into ``.grad`` of every leaf Tensor that requires a gradient.

Gradients are NumPy arrays throughout. An array that a backward passes on unchanged (an addition's, a
reshape's view) may reach several places, so the engine adds in place only into sums it made itself, and
an array that anything else may hold is copied before it becomes a leaf's ``.grad`` (which later
accumulations and the optimiser change in place): no two ``.grad`` ever share memory. A Function written
outside the library is not trusted with that contract (``Function.trusted``): its backward gets copies and what
it returns counts as held elsewhere.

A leaf's post-accumulate-grad hooks run once per backward, as soon as its gradient is final: the engine counts the
edges into each hooked leaf as it counts those into Contexts, and runs the hooks when the last of them has been
visited, while backward goes on with the rest of the graph (data-parallel training starts sending a gradient
there, overlapping the rest of backward). A leaf that got no gradient in this backward runs no hook.
"""

import weakref

import numpy as np

from .function import Context


def backward(root, gradient=None, retain_graph=False):
    """Accumulates d(root)/d(leaf), weighted by ``gradient``, into every leaf's ``.grad``."""
    if not root._requires_grad:
        raise RuntimeError("backward: this tensor does not require a gradient and has no grad_fn (did the "
                           "computation start from tensors with requires_grad=True, outside no_grad?)")
    gradient = _root_gradient(root, gradient)
    handed = _Handed(gradient)  # arrays that something else may hold: copied before they become a .grad
    root_ctx = root.grad_fn
    if root_ctx is None:
        _accumulate_leaf(root, gradient, handed)
        _run_hooks((root,))
        return
    consumers, waiting = _count_consumers(root_ctx)  # waiting: hooked leaf -> edges into it not yet visited
    hooked = set()            # hooked leaves that got a gradient in this backward
    owned = set()             # sums this engine made: safe to add into in place
    pending = {root_ctx: _slots(root_ctx, root._out_index, gradient)}
    ready = [root_ctx]
    while ready:
        ctx = ready.pop()
        grads = pending.pop(ctx, None)
        result = None
        if grads is not None:
            function = ctx.function
            if ctx._freed:
                raise RuntimeError(_freed_message(ctx))
            for g in grads:
                if g is not None:
                    if owned:
                        owned.discard(id(g))
                    handed.add(g)
                    if function.contiguous_inputs and not g.flags.c_contiguous:
                        grads = [x if x is None or x.flags.c_contiguous else np.ascontiguousarray(x) for x in grads]
            trusted = function.trusted
            if not trusted:  # it may write into the gradients it is given, which other paths share
                grads = [None if x is None else x.copy() for x in grads]
            result = function.backward(ctx, *grads)
            if not retain_graph:
                ctx.release()
            if type(result) is not tuple:
                result = (result,)
            if len(result) != len(ctx.next_edges):
                raise RuntimeError(f"{ctx.name}.backward returned {len(result)} gradients, but forward had "
                                   f"{len(ctx.next_edges)} inputs")
            if not trusted:
                result = _held_elsewhere(result, handed)
        i = -1
        for edge in ctx.next_edges:
            i += 1
            if edge is None:
                continue
            target, index = edge
            g = None if result is None else result[i]
            if g is not None and type(g) is not np.ndarray:
                g = np.asarray(g)  # NumPy turns 0-d results into scalars
            if type(target) is Context:
                if g is not None:
                    if g.shape != target._out_shapes[index]:
                        g = _reduce_to(ctx, i, g, target._out_shapes[index])
                    slots = pending.get(target)
                    if slots is None:
                        pending[target] = _slots(target, index, g)
                    else:
                        slots[index] = _add(slots[index], g, owned)
                left = consumers[target] - 1
                consumers[target] = left
                if not left:
                    ready.append(target)
            else:
                if g is not None:
                    if g.shape != target.data.shape:
                        g = _reduce_to(ctx, i, g, target.data.shape)
                    _accumulate_leaf(target, g, handed)
                if waiting and target in waiting:
                    if g is not None:
                        hooked.add(target)
                    left = waiting[target] - 1
                    waiting[target] = left
                    if not left and target in hooked:  # its gradient is final: no edge into it is left
                        _run_hooks((target,))


class _Handed:
    """Arrays given to a backward or stored as a .grad during one backward pass, by identity. Weak
    references, so that an array freed meanwhile neither stays alive nor lends its id to a fresh one."""

    __slots__ = ("refs",)

    def __init__(self, first):
        self.refs = {id(first): weakref.ref(first)}

    def add(self, array):
        self.refs[id(array)] = weakref.ref(array)

    def __contains__(self, array):
        ref = self.refs.get(id(array))
        return ref is not None and ref() is array


def _held_elsewhere(result, handed):
    """An untrusted backward's gradients as arrays (it may return Tensors), each counted as held by someone else:
    it may be an array the Function keeps, so it is copied before it becomes a .grad."""
    arrays = tuple(None if g is None else np.asarray(getattr(g, "data", g)) for g in result)
    for g in arrays:
        if g is not None:
            handed.add(g)
    return arrays


def _reduce_to(ctx, i, g, shape):
    """A gradient of a broadcast shape summed back to its input's shape, as PyTorch does for a Function whose
    input was broadcast inside forward; any other shape is the backward's error."""
    from ..ops._broadcast import unbroadcast

    try:
        if np.broadcast_shapes(shape, g.shape) == g.shape:
            return unbroadcast(g, shape)
    except ValueError:
        pass
    raise RuntimeError(f"{ctx.name}.backward returned a gradient of shape {g.shape} for input {i}, which has shape "
                       f"{shape}")


def _run_hooks(leaves):
    for t in leaves:
        for hook in list(t._hooks or ()):
            hook(t)


def _slots(ctx, index, g):
    if len(ctx._out_shapes) == 1:
        return [g]
    slots = [None] * len(ctx._out_shapes)
    slots[index] = g
    return slots


def _count_consumers(root_ctx):
    """For every Context reachable from root_ctx, the number of edges into it: it runs when all have fired;
    and for every leaf with post-accumulate-grad hooks, the number of edges into it: its gradient is final
    when all have been visited."""
    consumers = {root_ctx: 0}
    waiting = {}
    stack = [root_ctx]
    while stack:
        for edge in stack.pop().next_edges:
            if edge is None:
                continue
            child = edge[0]
            if type(child) is Context:
                if child in consumers:
                    consumers[child] += 1
                else:
                    consumers[child] = 1
                    stack.append(child)
            elif child._hooks:
                waiting[child] = waiting.get(child, 0) + 1
    return consumers, waiting


def _root_gradient(root, gradient):
    if gradient is None:
        if root.data.size != 1:
            raise RuntimeError(f"backward: the output has shape {root.shape}; a gradient can be created implicitly "
                               "only for a scalar output; pass backward(gradient=...) of the output's shape")
        return np.ones_like(root.data)
    gradient = np.asarray(getattr(gradient, "data", gradient), dtype=root.dtype)
    if gradient.shape != root.shape:
        raise RuntimeError(f"backward: gradient has shape {gradient.shape}, the output has shape {root.shape}")
    return gradient


def _add(total, g, owned):
    """total + g, in place when total is a sum this engine made itself."""
    if total is None:
        return g
    if id(total) in owned:
        total += g
        return total
    total = total + g
    owned.add(id(total))
    return total


def _accumulate_leaf(t, g, handed):
    if g.dtype != t.data.dtype:
        g = g.astype(t.data.dtype)
    if t.grad is None:
        if not g.flags.owndata or not g.flags.writeable or g in handed:
            g = g.copy()
        t.grad = g
        handed.add(g)
    else:
        t.grad += g


def _freed_message(ctx):
    from .function import _FREED_MESSAGE

    return f"{ctx.name}: {_FREED_MESSAGE}"
