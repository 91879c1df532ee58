"""Reverse-mode differentiation over the recorded graph: the chain rule, one Context at a time.

``backward(root, gradient)`` first counts, for every Context reachable from ``root``, how many edges lead
into it; then it runs the Contexts in reverse topological order (a Context runs once every consumer of its
outputs has delivered its gradient), summing the gradients that reach one output along several paths and
accumulating into ``.grad`` of every leaf Tensor that requires a gradient.

Gradients are NumPy arrays throughout. An array that a backward passes on unchanged (an addition's, a
reshape's view) may reach several places, so the engine adds in place only into sums it made itself, and
an array that anything else may hold is copied before it becomes a leaf's ``.grad`` (which later
accumulations and the optimiser change in place): no two ``.grad`` ever share memory.
"""

import numpy as np

from .function import Context


def backward(root, gradient=None, retain_graph=False):
    """Accumulates d(root)/d(leaf), weighted by ``gradient``, into every leaf's ``.grad``."""
    if not root.requires_grad:
        raise RuntimeError("backward: this tensor does not require a gradient and has no grad_fn (did the "
                           "computation start from tensors with requires_grad=True, outside no_grad?)")
    gradient = _root_gradient(root, gradient)
    handed = {id(gradient)}   # arrays that something else may hold: copied before they become a .grad
    owned = set()             # sums this engine made: safe to add into in place
    if root.grad_fn is None:
        _accumulate_leaf(root, gradient, handed)
        return
    order, pending = _schedule(root.grad_fn), {root.grad_fn: [None] * len(root.grad_fn._out_shapes)}
    pending[root.grad_fn][root._out_index] = gradient
    for ctx in order:
        grads = pending.pop(ctx, None)
        if grads is None or all(g is None for g in grads):
            continue
        if ctx._freed:
            raise RuntimeError(_freed_message(ctx))
        for g in grads:
            if g is not None:
                owned.discard(id(g))
                handed.add(id(g))
        if ctx.function.contiguous_inputs:
            grads = [g if g is None or g.flags.c_contiguous else np.ascontiguousarray(g) for g in grads]
        result = ctx.function.backward(ctx, *grads)
        if not retain_graph:
            ctx.release()
        if not isinstance(result, tuple):
            result = (result,)
        if len(result) != len(ctx.next_edges):
            raise RuntimeError(f"{ctx.name}.backward returned {len(result)} gradients, but forward had "
                               f"{len(ctx.next_edges)} inputs")
        for i, (edge, g) in enumerate(zip(ctx.next_edges, result)):
            if edge is None or g is None:
                continue
            target, index = edge
            if type(target) is Context:
                expected = target._out_shapes[index]
                if g.shape != expected:
                    raise RuntimeError(f"{ctx.name}.backward returned a gradient of shape {g.shape} for input {i}, "
                                       f"which has shape {expected}")
                slots = pending.get(target)
                if slots is None:
                    slots = pending[target] = [None] * len(target._out_shapes)
                slots[index] = _add(slots[index], g, handed, owned)
            else:
                if g.shape != target.data.shape:
                    raise RuntimeError(f"{ctx.name}.backward returned a gradient of shape {g.shape} for input {i}, "
                                       f"which has shape {target.data.shape}")
                _accumulate_leaf(target, g, handed)


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


def _schedule(root_ctx):
    """Every Context reachable from root_ctx, in an order where each comes after all its consumers."""
    consumers = {root_ctx: 0}
    stack = [root_ctx]
    while stack:
        ctx = stack.pop()
        for edge in ctx.next_edges:
            if edge is not None and type(edge[0]) is Context:
                child = edge[0]
                if child in consumers:
                    consumers[child] += 1
                else:
                    consumers[child] = 1
                    stack.append(child)
    order, ready = [], [root_ctx]
    while ready:
        ctx = ready.pop()
        order.append(ctx)
        for edge in ctx.next_edges:
            if edge is not None and type(edge[0]) is Context:
                child = edge[0]
                consumers[child] -= 1
                if consumers[child] == 0:
                    ready.append(child)
    return order


def _add(total, g, handed, owned):
    """total + g, in place when total is a sum this engine made itself."""
    if total is None:
        handed.add(id(g))
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
        if id(g) in handed or not g.flags.owndata or not g.flags.writeable:
            g = g.copy()
        t.grad = g
        handed.add(id(g))
    else:
        t.grad += g
    hooks = t._hooks
    if hooks:
        for hook in hooks:
            hook(t)


def _freed_message(ctx):
    from .function import _FREED_MESSAGE

    return f"{ctx.name}: {_FREED_MESSAGE}"
