"""The planned step (nntrain/step_plan.py): a Sequential of Flatten, Linear and activations under
CrossEntropyLoss trains without a recorded graph, to the same bits as the recorded step, and everything the
plan does not cover runs recorded."""

import numpy as np
import pytest

from nntrain import nn, optim, presets
from nntrain.nn.module import register_module_forward_hook
from nntrain.step_plan import StepPlan
from nntrain.train import NonFiniteError, Trainer

from conftest import num_threads


def batches(rng, steps, shape=(1, 6, 6), classes=5, n=16, dtype=np.float32):
    return [(rng.standard_normal((n,) + shape).astype(dtype), rng.integers(0, classes, n)) for _ in range(steps)]


def train(make_model, data, recorded, loss_fn=None, make_optimizer=None):
    """Weights, (loss, correct) per step and the last gradients; `recorded` forces the recorded step (a
    forward hook, which the plan leaves to the recorded step)."""
    model = make_model()
    if recorded:
        model.register_forward_hook(lambda module, args, out: None)
    optimizer = (make_optimizer or (lambda ps: optim.Adam(ps, lr=1e-2)))(model.parameters())
    trainer = Trainer(model, optimizer, loss_fn or nn.CrossEntropyLoss())
    results = [trainer.train_step(x, y) for x, y in data]
    grads = [p.grad.copy() for p in model.parameters()]
    return [p.data.copy() for p in model.parameters()], results, grads


def assert_same_training(make_model, data, **kwargs):
    planned = train(make_model, data, recorded=False, **kwargs)
    recorded = train(make_model, data, recorded=True, **kwargs)
    weights, results, grads = planned
    assert results == recorded[1]
    for a, b in zip(weights + grads, recorded[0] + recorded[2]):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)


ACTIVATIONS = [nn.ReLU(), nn.LeakyReLU(0.2), nn.ELU(0.7), nn.Sigmoid(), nn.Tanh(), nn.GELU(), nn.GELU("tanh")]


@pytest.mark.parametrize("activation", ACTIVATIONS, ids=lambda a: repr(a))
def test_every_activation_trains_to_the_bits_of_the_recorded_step(activation):
    def make():
        rng = np.random.default_rng(1)
        return nn.Sequential(nn.Flatten(), nn.Linear(36, 12, rng=rng), activation, nn.Linear(12, 5, rng=rng))

    assert_same_training(make, batches(np.random.default_rng(2), 4))


@pytest.mark.parametrize("threads", [1, 2])
def test_the_mlp_preset_trains_to_the_bits_of_the_recorded_step(threads):
    with num_threads(threads):
        assert_same_training(lambda: presets.build("mlp", (1, 28, 28), 10, rng=np.random.default_rng(0)),
                             batches(np.random.default_rng(3), 3, shape=(1, 28, 28), classes=10, n=64))


def test_float64_no_bias_label_smoothing_and_ignored_labels_match_too():
    def make():
        rng = np.random.default_rng(4)
        return nn.Sequential(nn.Linear(6, 8, bias=False, rng=rng, dtype=np.float64), nn.Tanh(),
                             nn.Linear(8, 3, rng=rng, dtype=np.float64))

    rng = np.random.default_rng(5)
    data = [(rng.standard_normal((10, 6)), np.where(rng.random(10) < 0.2, -100, rng.integers(0, 3, 10)))
            for _ in range(3)]
    assert_same_training(make, data, loss_fn=nn.CrossEntropyLoss(label_smoothing=0.1),
                         make_optimizer=lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9))


def test_an_activation_before_the_first_linear_needs_no_backward():
    def make():
        rng = np.random.default_rng(6)
        return nn.Sequential(nn.Flatten(), nn.ReLU(), nn.Linear(36, 5, rng=rng))

    assert_same_training(make, batches(np.random.default_rng(7), 3))


def test_an_activation_before_the_flatten_runs_on_the_images():
    def make():
        rng = np.random.default_rng(10)
        return nn.Sequential(nn.Tanh(), nn.Flatten(), nn.Linear(36, 7, rng=rng), nn.Sigmoid(), nn.Flatten(),
                             nn.Linear(7, 5, rng=rng))

    assert_same_training(make, batches(np.random.default_rng(11), 3))


def test_an_ignored_label_inside_the_classes_is_counted_as_the_recorded_step_counts_it():
    def make():
        rng = np.random.default_rng(12)
        return nn.Sequential(nn.Linear(6, 4, rng=rng), nn.ReLU(), nn.Linear(4, 3, rng=rng))

    rng = np.random.default_rng(13)
    data = [(rng.standard_normal((40, 6)).astype(np.float32), rng.integers(0, 3, 40)) for _ in range(3)]
    assert_same_training(make, data, loss_fn=nn.CrossEntropyLoss(ignore_index=1))


@pytest.mark.parametrize("planned", [True, False])
def test_a_non_finite_loss_writes_no_gradient_and_stops_as_the_recorded_step_does(planned):
    model = small_mlp()
    model[2].bias.data[1] = np.inf  # every logit row holds an Inf: the loss is not finite
    if not planned:
        model.register_forward_hook(lambda module, args, out: None)
    trainer = Trainer(model, optim.SGD(model.parameters(), lr=0.1))
    before = [p.data.copy() for p in model.parameters()]
    with pytest.raises(NonFiniteError, match=r"loss became .*'2' \(Linear\)"):
        trainer.train_step(np.ones((5, 4), np.float32), np.zeros(5, np.int64))
    assert all(p.grad is None for p in model.parameters())
    for p, b in zip(model.parameters(), before):
        np.testing.assert_array_equal(p.data, b)


def test_the_trainer_runs_the_plan_for_the_presets_mlp(monkeypatch):
    calls = []
    run = StepPlan.run
    monkeypatch.setattr(StepPlan, "run", lambda self, x, y: calls.append(1) or run(self, x, y))
    model = presets.build("mlp", (1, 28, 28), 10, rng=np.random.default_rng(0))
    x, y = batches(np.random.default_rng(0), 1, shape=(1, 28, 28), classes=10)[0]
    Trainer(model, optim.Adam(model.parameters())).train_step(x, y)
    assert calls == [1]


def small_mlp():
    return nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))


class MySequential(nn.Sequential):
    pass


@pytest.mark.parametrize("case", ["subclass", "other layer", "hook", "frozen", "grad hook", "class weights",
                                  "sum", "other loss", "no linear", "flatten dims", "layer twice", "tied weight"])
def test_what_the_plan_does_not_cover_runs_recorded(case):
    model, loss = small_mlp(), nn.CrossEntropyLoss()
    if case == "subclass":
        model = MySequential(*model)
    elif case == "other layer":
        model = nn.Sequential(nn.Linear(4, 3), nn.Dropout(0.5), nn.Linear(3, 2))
    elif case == "hook":
        model[1].register_forward_hook(lambda module, args, out: None)
    elif case == "frozen":
        model[0].weight.requires_grad_(False)
    elif case == "grad hook":
        model[2].bias.register_post_accumulate_grad_hook(lambda p: None)
    elif case == "class weights":
        loss = nn.CrossEntropyLoss(weight=np.ones(2, np.float32))
    elif case == "sum":
        loss = nn.CrossEntropyLoss(reduction="sum")
    elif case == "other loss":
        loss = nn.MSELoss()
    elif case == "no linear":
        model = nn.Sequential(nn.Flatten(), nn.ReLU())
    elif case == "flatten dims":
        model = nn.Sequential(nn.Flatten(0, 1), nn.Linear(4, 2))
    elif case == "layer twice":
        square = nn.Linear(4, 4)
        model = nn.Sequential(square, nn.Tanh(), square, nn.Linear(4, 2))
    elif case == "tied weight":
        model = nn.Sequential(nn.Linear(4, 4), nn.Tanh(), nn.Linear(4, 4), nn.Linear(4, 2))
        model[2].weight = model[0].weight
    assert StepPlan.of(model, loss) is None


def change(case, model, loss):
    """Changes a trained Sequential(Flatten, Linear(4, 3), ReLU, Linear(3, 2)) or its loss the way `case`
    names; returns what undoes it, if anything."""
    if case == "hook":
        return model[2].register_forward_hook(lambda module, args, out: None).remove
    if case == "global hook":
        return register_module_forward_hook(lambda module, args, out: None).remove
    if case == "frozen":
        model[1].weight.requires_grad_(False)
        return lambda: model[1].weight.requires_grad_(True)
    if case == "grad hook":
        return model[3].bias.register_post_accumulate_grad_hook(lambda p: None).remove
    if case == "class weights":
        loss.weight = np.ones(2, np.float32)
    elif case == "sum":
        loss.reduction = "sum"
    elif case == "other layer":
        setattr(model, "2", nn.Dropout(0.5))
    elif case == "tied bias":
        model.append(nn.Linear(2, 2))
        model[4].bias = model[3].bias  # the same Parameter in two layers
    elif case == "flatten dims":
        model[0].start_dim = 0
    return None


@pytest.mark.parametrize("case", ["hook", "global hook", "frozen", "grad hook", "class weights", "sum",
                                  "other layer", "tied bias", "flatten dims"])
def test_a_change_after_a_planned_step_is_seen_by_the_next_step(monkeypatch, case):
    calls = []
    run = StepPlan.run
    monkeypatch.setattr(StepPlan, "run", lambda self, x, y: calls.append(1) or run(self, x, y))
    model, loss = nn.Sequential(nn.Flatten(), *small_mlp()), nn.CrossEntropyLoss()
    trainer = Trainer(model, optim.SGD(model.parameters(), lr=0.1), loss)
    x, y = np.ones((5, 4), np.float32), np.zeros(5, np.int64)
    trainer.train_step(x, y)
    assert calls == [1]
    undo = change(case, model, loss)
    try:
        try:
            trainer.train_step(x, y)
        except Exception:  # a change that breaks the step itself (a Flatten over the batch) still did not plan it
            pass
        assert calls == [1], "the step after the change must not run the plan made before it"
    finally:
        if undo is not None:  # (a global hook must not outlive the test)
            undo()
    if undo is not None:
        trainer.train_step(x, y)
        assert calls == [1, 1], "undoing the change plans the step again"


def test_a_changed_activation_setting_is_planned_with_its_new_value():
    def make():
        rng = np.random.default_rng(14)
        return nn.Sequential(nn.Linear(6, 8, rng=rng), nn.LeakyReLU(0.01), nn.Linear(8, 3, rng=rng))

    rng = np.random.default_rng(15)
    data = [(rng.standard_normal((10, 6)).astype(np.float32), rng.integers(0, 3, 10)) for _ in range(2)]
    runs = []
    for recorded in (False, True):
        model = make()
        if recorded:
            model.register_forward_hook(lambda module, args, out: None)
        trainer = Trainer(model, optim.SGD(model.parameters(), lr=0.5))
        trainer.train_step(*data[0])
        model[1].negative_slope = 0.5
        trainer.train_step(*data[1])
        runs.append([p.grad.copy() for p in model.parameters()])
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)


def test_a_layer_used_twice_sums_both_gradients_as_the_recorded_step_does():
    def make():
        rng = np.random.default_rng(8)
        square = nn.Linear(5, 5, rng=rng)
        return nn.Sequential(square, nn.Tanh(), square, nn.Linear(5, 3, rng=rng))

    rng = np.random.default_rng(9)
    data = [(rng.standard_normal((6, 5)).astype(np.float32), rng.integers(0, 3, 6)) for _ in range(2)]
    planned, recorded = train(make, data, recorded=False), train(make, data, recorded=True)
    for a, b in zip(planned[0], recorded[0]):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("case", ["probabilities", "strided", "wrong width", "other dtype", "list", "no flatten",
                                  "bias dtype"])
def test_batches_the_plan_does_not_cover_run_recorded(case):
    plan = StepPlan.of(small_mlp(), nn.CrossEntropyLoss())
    x, y = np.ones((5, 4), np.float32), np.zeros(5, np.int64)
    if case == "probabilities":
        y = np.full((5, 2), 0.5, np.float32)
    elif case == "strided":
        x = np.ones((5, 8), np.float32)[:, ::2]
    elif case == "wrong width":
        x = np.ones((5, 3), np.float32)
    elif case == "other dtype":
        x = x.astype(np.float64)
    elif case == "list":
        x = x.tolist()
    elif case == "no flatten":  # a Linear over (N, 1, 4) rows is the recorded step's to run
        x = x[:, None, :]
    elif case == "bias dtype":
        plan.linears[1].bias.data = plan.linears[1].bias.data.astype(np.float64)
    assert plan.run(x, y) is None
    assert all(p.grad is None for p in plan.linears[0].parameters())


def test_probability_targets_and_penalties_still_train_through_the_recorded_step():
    model = small_mlp()
    trainer = Trainer(model, optim.SGD(model.parameters(), lr=0.1), penalties=(nn.L2Penalty(0.01),))
    loss, _ = trainer.train_step(np.ones((5, 4), np.float32), np.zeros(5, np.int64))
    assert np.isfinite(loss) and all(p.grad is not None for p in model.parameters())
    trainer = Trainer(model, optim.SGD(model.parameters(), lr=0.1), nn.CrossEntropyLoss())
    loss, _ = trainer.train_step(np.ones((5, 4), np.float32), np.full((5, 2), 0.5, np.float32))
    assert np.isfinite(loss)
