"""The backward engine and grad mode: accumulation, the root gradient, freed graphs, no_grad/enable_grad/
set_grad_enabled, gradients that never share memory, user-defined Functions (and the engine's errors for a
wrong backward), post-accumulate-grad hooks, the explicit array API and modules with a hand-written backward
inside a recorded graph."""

import numpy as np
import pytest

import nntrain
from nntrain import Tensor, enable_grad, nn, no_grad, set_grad_enabled
from nntrain.autograd import Function

from backward_probe import probe
from reference.tensor_gradcheck import gradcheck


def leaf(*shape, value=1.0):
    return Tensor(np.full(shape, value), requires_grad=True)


# ---- accumulation and the root gradient -------------------------------------------------------------------------
def test_gradients_accumulate_across_backward_calls_until_cleared():
    x = leaf(3)
    (x * 2).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad, [5, 5, 5])
    x.grad = None
    (x * 2).sum().backward()
    np.testing.assert_array_equal(x.grad, [2, 2, 2])


def test_module_and_optimizer_zero_grad_clear_accumulated_gradients(rng):
    model = nn.Linear(3, 2, rng=rng)
    opt = nntrain.optim.SGD(model.parameters(), lr=0.1)
    x = Tensor(rng.standard_normal((4, 3)).astype(np.float32))
    model(x).sum().backward()
    first = model.weight.grad.copy()
    model(x).sum().backward()
    np.testing.assert_allclose(model.weight.grad, 2 * first, rtol=1e-6)
    opt.zero_grad()
    assert model.weight.grad is None
    model(x).sum().backward()
    model.zero_grad(set_to_none=False)
    assert not model.weight.grad.any()
    model(x).sum().backward()
    np.testing.assert_allclose(model.weight.grad, first, rtol=1e-6)


@pytest.mark.parametrize("shape", [(), (1,), (1, 1)])
def test_backward_without_gradient_on_a_single_element(shape):
    x = leaf(*shape, value=2.0)
    (x * x).backward()
    np.testing.assert_array_equal(x.grad, np.full(shape, 4.0))


def test_backward_of_a_non_scalar_needs_a_gradient():
    x = leaf(3)
    with pytest.raises(RuntimeError, match=r"backward: the output has shape \(3,\).*only for a scalar output.*gradient="):
        (x * 2).backward()
    (x * 2).backward(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(x.grad, [2, 4, 6])
    with pytest.raises(RuntimeError, match=r"backward: gradient has shape \(2,\), the output has shape \(3,\)"):
        (x * 2).backward(np.ones(2))


def test_backward_of_a_tensor_outside_any_graph_is_an_error():
    with pytest.raises(RuntimeError, match="does not require a gradient"):
        Tensor(np.ones(3)).sum().backward()
    x = leaf(3)
    with no_grad():
        y = (x * 2).sum()
    with pytest.raises(RuntimeError, match="does not require a gradient"):
        y.backward()


def test_backward_of_a_leaf_itself():
    x = leaf(2)
    g = np.array([1.0, 2.0])
    x.backward(g)
    x.grad += 1
    np.testing.assert_array_equal(g, [1.0, 2.0])   # the caller's array did not become the .grad


def test_backward_runs_under_no_grad_too():
    x = leaf(3)
    y = (x * 2).sum()
    with no_grad():
        y.backward()
    np.testing.assert_array_equal(x.grad, [2, 2, 2])


def test_a_long_chain_backpropagates_without_recursion():
    x = leaf(1)
    y = x
    for _ in range(5000):
        y = y * 1.0 + 0.0
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0])


def test_branches_that_meet_again_sum_their_gradients(rng):
    gradcheck(lambda x, w: (x * w).relu() + (x - w).tanh() * x + w, rng.standard_normal((3, 4)),
              rng.standard_normal(4))


def test_float32_graph_with_a_float64_root_gradient(rng):
    x = Tensor(rng.standard_normal(3).astype(np.float32), requires_grad=True)
    (x.relu() * 2).backward(np.ones(3, np.float64))
    assert x.grad.dtype == np.float32


# ---- a freed graph --------------------------------------------------------------------------------------------
def test_backward_through_a_freed_graph_is_an_error():
    x = leaf(3)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time.*retain_graph=True"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = leaf(3)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_array_equal(x.grad, [4, 4, 4])


def test_a_second_loss_sharing_a_freed_part_of_the_graph_is_an_error():
    x = leaf(3)
    h = x.exp()
    h.sum().backward()
    with pytest.raises(RuntimeError, match="Exp: .*second time"):
        (h * 2).sum().backward()


# ---- grad mode ------------------------------------------------------------------------------------------------
def test_no_grad_as_a_context_manager_records_nothing_and_restores():
    x = leaf(2)
    with no_grad():
        assert not nntrain.is_grad_enabled()
        y = x * 2
    assert not y.requires_grad and y.grad_fn is None and nntrain.is_grad_enabled()


def test_no_grad_restores_the_state_after_an_exception():
    with pytest.raises(KeyError):
        with no_grad():
            raise KeyError("boom")
    assert nntrain.is_grad_enabled()


def test_nesting_no_grad_and_enable_grad():
    x = leaf(1)
    with no_grad():
        with enable_grad():
            assert (x * 2).requires_grad
            with no_grad():
                assert not (x * 2).requires_grad
            assert nntrain.is_grad_enabled()
        assert not (x * 2).requires_grad
        with no_grad():
            pass
        assert not nntrain.is_grad_enabled()
    assert nntrain.is_grad_enabled()


def test_one_no_grad_object_entered_twice():
    guard = no_grad()
    with guard:
        with guard:
            pass
        assert not nntrain.is_grad_enabled()
    assert nntrain.is_grad_enabled()


def test_no_grad_as_a_decorator_with_and_without_parentheses():
    x = leaf(1)

    @no_grad()
    def f(t):
        return t * 2

    @no_grad
    def g(t):
        """doc"""
        return t * 2

    assert not f(x).requires_grad and not g(x).requires_grad and g.__doc__ == "doc"
    assert nntrain.is_grad_enabled()


def test_decorated_function_restores_the_state_after_an_exception():
    @no_grad()
    def fail():
        raise ValueError("boom")

    with pytest.raises(ValueError):
        fail()
    assert nntrain.is_grad_enabled()


def test_decorated_generator_runs_each_step_without_recording():
    x = leaf(1)

    @no_grad()
    def steps():
        for _ in range(2):
            yield (x * 2).requires_grad, nntrain.is_grad_enabled()

    gen = steps()
    assert next(gen) == (False, False)
    assert nntrain.is_grad_enabled()          # the caller's mode between steps
    assert (x * 2).requires_grad
    assert next(gen) == (False, False)


def test_enable_grad_decorator_inside_no_grad():
    x = leaf(1)

    @enable_grad()
    def f():
        return (x * 2).requires_grad

    with no_grad():
        assert f()
        assert not nntrain.is_grad_enabled()


def test_set_grad_enabled_as_a_call_a_context_manager_and_a_decorator():
    x = leaf(1)
    set_grad_enabled(False)            # a plain call switches at once, as in PyTorch
    try:
        assert not nntrain.is_grad_enabled() and not (x * 2).requires_grad
    finally:
        set_grad_enabled(True)
    assert nntrain.is_grad_enabled()
    with set_grad_enabled(False):
        assert not nntrain.is_grad_enabled()
    assert nntrain.is_grad_enabled()

    @set_grad_enabled(False)
    def f():
        return nntrain.is_grad_enabled()

    assert nntrain.is_grad_enabled() and not f() and nntrain.is_grad_enabled()


# ---- gradients never share memory ------------------------------------------------------------------------------
@pytest.mark.parametrize("combine", [lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a.reshape(6) + b.reshape(6),
                                     lambda a, b: nntrain.cat([a, b]), lambda a, b: nntrain.stack([a, b]),
                                     lambda a, b: a.T + b.T, lambda a, b: a[:, :] + b],
                         ids=["add", "sub", "reshape", "cat", "stack", "transpose", "slice"])
def test_two_gradients_never_share_memory(combine):
    w1, w2 = leaf(2, 3), leaf(2, 3)
    loss = combine(w1, w2).sum()
    loss.backward()
    assert not np.shares_memory(w1.grad, w2.grad)
    before = w2.grad.copy()
    w1.grad += 1
    np.testing.assert_array_equal(w2.grad, before)


def test_gradient_is_not_the_callers_array_nor_a_view_of_it():
    w = leaf(3)
    g = np.ones(3)
    (w * 1).backward(g)
    (w + 0).backward(g)
    w.grad *= 5
    np.testing.assert_array_equal(g, np.ones(3))


# ---- user-defined Functions ------------------------------------------------------------------------------------
class ScaledProduct(Function):
    """f(x, y; scale) = scale * x * y, written by a user with ctx.save_for_backward and needs_input_grad."""

    @staticmethod
    def forward(ctx, x, y, scale=1.0):
        ctx.save_for_backward(x, y)
        ctx.scale = scale
        return scale * x * y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        gx = g * ctx.scale * y if ctx.needs_input_grad[0] else None
        gy = g * ctx.scale * x if ctx.needs_input_grad[1] else None
        return gx, gy


def test_a_user_defined_function(rng):
    gradcheck(lambda x, y: ScaledProduct.apply(x, y, scale=3.0), rng.standard_normal((2, 3)), rng.standard_normal(3))
    gradcheck(lambda x: ScaledProduct.apply(x, x) + ScaledProduct.apply(x, Tensor(np.ones(4))),
              rng.standard_normal(4))
    out = ScaledProduct.apply(np.ones(2), np.full(2, 2.0))    # arrays in, arrays out
    assert type(out) is np.ndarray and out.tolist() == [2.0, 2.0]


def test_a_user_defined_function_with_two_outputs(rng):
    class SumAndDiff(Function):
        @staticmethod
        def forward(ctx, a, b):
            return a + b, a - b

        @staticmethod
        def backward(ctx, g_sum, g_diff):
            g_sum = 0 if g_sum is None else g_sum
            g_diff = 0 if g_diff is None else g_diff
            return g_sum + g_diff, g_sum - g_diff

    gradcheck(lambda a, b: SumAndDiff.apply(a, b), rng.standard_normal(3), rng.standard_normal(3))
    gradcheck(lambda a, b: SumAndDiff.apply(a, b)[1] * 2, rng.standard_normal(3), rng.standard_normal(3))


def test_a_backward_with_a_wrong_shape_is_named():
    class Broken(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g[:1]

    with pytest.raises(RuntimeError, match=r"Broken.backward returned a gradient of shape \(1,\) for input 0, "
                                           r"which has shape \(3,\)"):
        Broken.apply(leaf(3)).sum().backward()
    with pytest.raises(RuntimeError, match=r"Broken.backward returned a gradient of shape \(1,\)"):
        Broken.apply(leaf(3) * 1).sum().backward()


def test_a_backward_with_a_wrong_count_is_named():
    class TooFew(Function):
        @staticmethod
        def forward(ctx, x, y):
            return x * y

        @staticmethod
        def backward(ctx, g):
            return g

    with pytest.raises(RuntimeError, match="TooFew.backward returned 1 gradients, but forward had 2 inputs"):
        TooFew.apply(leaf(3), leaf(3)).sum().backward()


def test_a_backward_that_returns_an_array_it_holds_does_not_alias_the_grad():
    class HalfSquare(Function):  # d(x^2 / 2)/dx = x: a careless backward returns the saved input itself
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return 0.5 * x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return x

    x = leaf(3, value=2.0)
    HalfSquare.apply(x).sum().backward()
    x.grad += 1
    np.testing.assert_array_equal(x.data, [2.0, 2.0, 2.0])


def test_a_backward_that_writes_into_its_incoming_gradient_harms_no_other_branch():
    class ClipNegative(Function):  # the material's style: zero the gradient where the input was negative
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return np.maximum(x, 0)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            g[x <= 0] = 0
            return g

    x = Tensor(np.array([-1.0, 2.0]), requires_grad=True)
    h = x * 1
    (ClipNegative.apply(h) + h).sum().backward()   # the sum hands the same gradient to both branches
    np.testing.assert_array_equal(x.grad, [1.0, 2.0])


def test_forward_may_return_a_number_or_a_tensor():
    class Total(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.shape = x.shape
            return float(x.sum())

        @staticmethod
        def backward(ctx, g):
            return Tensor(np.full(ctx.shape, float(g)))

    x = leaf(3)
    out = Total.apply(x)
    assert isinstance(out, Tensor) and out.shape == ()
    out.backward()
    np.testing.assert_array_equal(x.grad, [1, 1, 1])


# ---- hooks ----------------------------------------------------------------------------------------------------
def test_post_accumulate_grad_hook_fires_once_per_backward_with_the_total():
    x = leaf(3)
    seen = []
    handle = x.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.copy()))
    (x * x + x).sum().backward()      # three contributions reach x in one backward
    assert len(seen) == 1
    np.testing.assert_array_equal(seen[0], [3, 3, 3])
    (x * 2).sum().backward()
    assert len(seen) == 2
    np.testing.assert_array_equal(seen[1], [5, 5, 5])
    handle.remove()
    (x * 2).sum().backward()
    assert len(seen) == 2


def test_post_accumulate_grad_hook_not_for_a_leaf_that_got_no_gradient():
    x, y = leaf(2), leaf(2)
    seen = []
    y.register_post_accumulate_grad_hook(lambda t: seen.append(t))
    (x * 2).sum().backward()
    assert seen == []


def test_post_accumulate_grad_hook_runs_during_backward_as_soon_as_the_gradient_is_final():
    # out = sum(a * probe(b * x)): a's gradient is final before the probe's backward runs, b's only after it.
    # (Data-parallel training starts all-reducing a gradient in its hook, overlapping the rest of backward.)
    events = []

    Probe = probe(events)

    a, b, x = leaf(3, value=2.0), leaf(3, value=3.0), leaf(3, value=5.0)
    for name, t in (("a", a), ("b", b), ("x", x)):
        t.register_post_accumulate_grad_hook(lambda t, name=name: events.append((name, t.grad.copy())))
    (a * Probe.apply(b * x)).sum().backward()
    assert [e if e == "probe" else e[0] for e in events] == ["a", "probe", "b", "x"]
    grads = {e[0]: e[1] for e in events if e != "probe"}
    np.testing.assert_array_equal(grads["a"], [15, 15, 15])
    np.testing.assert_array_equal(grads["b"], [10, 10, 10])
    np.testing.assert_array_equal(grads["x"], [6, 6, 6])


def test_post_accumulate_grad_hook_of_a_leaf_used_early_and_late_waits_for_both_uses():
    # w is used at the output (w * h) and at the input (x * w); its hook runs once, with both contributions,
    # after the probe between the two uses has run
    events = []

    Probe = probe(events)

    w, x = leaf(3, value=2.0), Tensor(np.full(3, 5.0))
    w.register_post_accumulate_grad_hook(lambda t: events.append(t.grad.copy()))
    h = Probe.apply(x * w)
    (w * h).sum().backward()    # d/dw of w * (x * w) = 2 * x * w = 20
    assert events[0] == "probe" and len(events) == 2
    np.testing.assert_array_equal(events[1], [20, 20, 20])


def test_post_accumulate_grad_hook_only_on_leaves():
    with pytest.raises(RuntimeError, match="only be registered on leaf tensors"):
        (leaf(2) * 2).register_post_accumulate_grad_hook(lambda t: None)


# ---- the explicit array API and hand-written module backwards ----------------------------------------------------
def test_the_array_api_of_modules_still_works(rng):
    model = nn.Sequential(nn.Linear(4, 5, rng=rng), nn.Tanh(), nn.Linear(5, 3, rng=rng)).to(np.float64)
    x = rng.standard_normal((6, 4))
    g = rng.standard_normal((6, 3))
    out = model(x)
    assert type(out) is np.ndarray
    dx = model.backward(g)
    assert type(dx) is np.ndarray and dx.shape == x.shape
    grads = [p.grad.copy() for p in model.parameters()]
    model.zero_grad()
    xt = Tensor(x, requires_grad=True)
    model(xt).backward(g)
    np.testing.assert_allclose(dx, xt.grad, rtol=1e-12)
    for a, p in zip(grads, model.parameters()):
        np.testing.assert_allclose(a, p.grad, rtol=1e-12)


class HandScale(nn.Module):
    """y = x * s with s a parameter, written with the material's explicit chain rule over arrays."""

    def __init__(self, features):
        super().__init__()
        self.s = nn.Parameter(np.linspace(0.5, 2.0, features))

    def forward(self, x):
        self.x = x
        return x * self.s.data

    def backward(self, grad_out):
        self.s.grad += (grad_out * self.x).sum(0)
        grad_out *= self.s.data          # in place, as hand-written backwards often do
        return grad_out


def test_a_module_with_a_hand_written_backward_inside_a_recorded_graph(rng):
    layer = HandScale(3)
    lin = nn.Linear(3, 3, rng=rng).to(np.float64)

    def f(x):
        h = lin(x)
        return layer(h) + h * 2         # the hand-written backward gets a gradient the sum also sends to h

    x = rng.standard_normal((4, 3))
    xt = gradcheck(f, x)[0]
    expected_s = layer.s.grad.copy()
    h = lin(Tensor(x))
    g_out = np.random.default_rng(0).standard_normal((4, 3))    # the upstream gradient gradcheck used
    np.testing.assert_allclose(expected_s, (g_out * h.data).sum(0), rtol=1e-10)
    assert xt.grad is not None


def test_a_module_whose_backward_calls_super_inside_a_graph(rng):
    class HalfReLU(nn.ReLU):
        def backward(self, grad_out):
            return 0.5 * super().backward(grad_out)

    x = Tensor(np.array([[-1.0, 2.0, 3.0]]), requires_grad=True)
    (HalfReLU()(x * 1) * 2).sum().backward()
    np.testing.assert_array_equal(x.grad, [[0.0, 1.0, 1.0]])


def test_a_module_with_a_hand_written_backward_used_twice_in_one_graph(rng):
    layer = HandScale(3)    # keeps its input on self, as hand-written layers do: each call's backward needs its own

    def f(x):
        return layer(layer(x) * 2)

    x = rng.standard_normal((4, 3))
    gradcheck(f, x)
    s, g = layer.s.data, np.random.default_rng(0).standard_normal((4, 3))
    inner = x * s * 2
    np.testing.assert_allclose(layer.s.grad, (g * inner).sum(0) + (g * s * 2 * x).sum(0), rtol=1e-10)


def test_enable_grad_without_parentheses_and_the_switches_are_distinct():
    @enable_grad
    def f():
        return nntrain.is_grad_enabled()

    with no_grad():
        assert f()
    assert not isinstance(enable_grad(), no_grad)


def test_an_optimizer_step_between_forward_and_backward_is_caught(rng):
    model = nn.Linear(3, 2, rng=rng)
    opt = nntrain.optim.SGD(model.parameters(), lr=0.1)
    x = Tensor(rng.standard_normal((4, 3)).astype(np.float32))
    model(x).sum().backward()
    loss = model(x).sum()          # saves the weight it read
    opt.step()                     # changes that weight in place
    with pytest.raises(RuntimeError, match="gradient of Linear was modified by an in-place operation"):
        loss.backward()
