"""The training loop: the default MLP learns the embedded digits; non-finite guard; early stopping;
evaluation metrics; callbacks and schedules."""

import numpy as np
import pytest

from nntrain import data, metric, nn, optim, presets
from nntrain.train import Callback, EarlyStopping, NonFiniteError, Trainer, evaluate


@pytest.fixture(scope="module")
def digits():
    splits, _ = data.normalise(data.load_digits())
    return splits


def test_default_mlp_reaches_95_percent_on_the_embedded_digits(digits):
    rng = np.random.default_rng(0)
    model = presets.build("mlp", digits.train.input_shape, digits.train.classes, rng=rng)
    trainer = Trainer(model, optim.Adam(model.parameters(), lr=1e-3))
    history = trainer.fit(data.DataLoader(digits.train, batch_size=32, shuffle=True, seed=0), epochs=30)
    assert history[-1].train_loss < history[0].train_loss / 5
    result = evaluate(model, digits.test, num_classes=10)
    assert result.accuracy >= 0.95, f"test accuracy {result.accuracy:.3f}"
    assert result.confusion.sum() == len(digits.test) and result.confusion.shape == (10, 10)
    np.testing.assert_allclose(np.trace(result.confusion) / len(digits.test), result.accuracy)


def test_evaluate_reports_per_class_accuracy_and_confusion():
    class Fixed(nn.Module):
        def forward(self, x):
            return x

    logits = np.array([[5, 0, 0], [0, 5, 0], [0, 5, 0], [0, 0, 5]], np.float32)
    labels = np.array([0, 1, 2, 2])
    ev = evaluate(Fixed(), data.ArrayDataset(logits, labels, 3, "t"), num_classes=3)
    assert ev.accuracy == 0.75
    np.testing.assert_array_equal(ev.confusion, [[1, 0, 0], [0, 1, 0], [0, 1, 1]])
    np.testing.assert_allclose(ev.per_class_accuracy, [1, 1, 0.5])


def small_problem(rng, n=64):
    x = rng.standard_normal((n, 6)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    return data.ArrayDataset(x, y, 2, "toy")


def test_a_nan_loss_stops_training_naming_epoch_and_step(rng):
    model = nn.Sequential(nn.Linear(6, 2, rng=rng))
    trainer = Trainer(model, optim.SGD(model.parameters(), lr=0.1))
    ds = small_problem(rng)
    ds.x[40] = np.nan  # reaches the loss in the third batch of 16
    with pytest.raises(NonFiniteError, match=r"loss became nan at epoch 1, step 3"):
        trainer.fit(data.DataLoader(ds, batch_size=16), epochs=2)


def test_a_non_finite_gradient_names_the_first_layer_it_reached(rng):
    model = nn.Sequential(nn.Linear(6, 4, rng=rng), nn.ReLU(), nn.Linear(4, 2, rng=rng))

    class InfGradient(nn.Module):  # passes values through, turns the gradient infinite on the way back
        def forward(self, x):
            return x

        def backward(self, g):
            return g * np.float32(np.inf)

    model = nn.Sequential(model[0], model[1], InfGradient(), model[2])
    trainer = Trainer(model, optim.SGD(model.parameters(), lr=0.1))
    before = model[0].weight.data.copy()
    with pytest.raises(NonFiniteError, match=r"epoch 1, step 1: first in layer parameter '0\.(weight|bias)'"):
        trainer.fit(data.DataLoader(small_problem(rng), batch_size=16), epochs=1)
    np.testing.assert_array_equal(model[0].weight.data, before)  # no step was taken with the bad gradient



@pytest.mark.parametrize("whole_model", [True, False])
def test_the_reported_gradient_norm_is_the_model_gradients_norm(rng, whole_model):
    # an optimiser of every parameter takes the norm in its own pass (Optimizer.step_if_finite); one of a
    # subset leaves it to a pass over all the model's gradients. Either way it is F.grad_norm of them all,
    # and the step the one plain SGD takes.
    from nntrain import functional as F

    model = nn.Sequential(nn.Linear(6, 8, rng=rng), nn.ReLU(), nn.Linear(8, 2, rng=rng))
    params = model.parameters() if whole_model else model[2].parameters()
    trainer = Trainer(model, optim.SGD(params, lr=0.1))
    assert trainer._norm_in_step() == whole_model
    x, y = small_problem(rng, 16).x, small_problem(rng, 16).y
    before = [p.data.copy() for p in params]
    trainer.train_step(x, y)
    grads = [p.grad for p in model.parameters()]
    assert trainer.last_grad_norm == F.grad_norm(grads)
    for p, w in zip(params, before):
        np.testing.assert_array_equal(p.data, w - np.float32(0.1) * p.grad)
    trainer.clip_grad_norm = 1e-3  # clipping: the norm (and the clipping) before the step, always
    assert not trainer._norm_in_step()

def test_early_stopping_stops_when_validation_loss_stalls(rng):
    model = nn.Sequential(nn.Linear(6, 2, rng=rng))
    stopper = EarlyStopping(patience=2)
    trainer = Trainer(model, optim.SGD(model.parameters(), lr=0.0), callbacks=[stopper])  # lr 0: never improves
    ds = small_problem(rng)
    history = trainer.fit(data.DataLoader(ds, batch_size=16), val_data=ds, epochs=50)
    assert len(history) == 3 and stopper.stopped_epoch == 3


def test_callbacks_and_schedule_see_every_epoch_and_batch(rng):
    seen = []

    class Recorder(Callback):
        def on_batch_end(self, trainer, epoch, step, loss, batch_size):
            seen.append((epoch, step, batch_size))

    model = nn.Sequential(nn.Linear(6, 2, rng=rng))
    opt = optim.SGD(model.parameters(), lr=0.1)
    trainer = Trainer(model, opt, scheduler=optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5), callbacks=[Recorder()])
    history = trainer.fit(data.DataLoader(small_problem(rng, 40), batch_size=16), epochs=2)
    assert seen == [(1, 1, 16), (1, 2, 16), (1, 3, 8), (2, 1, 16), (2, 2, 16), (2, 3, 8)]
    assert [m.lr for m in history] == [0.1, 0.05] and opt.param_groups[0]["lr"] == 0.025


def test_penalties_and_clipping_take_part_in_the_step(rng):
    model = nn.Sequential(nn.Linear(6, 2, rng=rng))
    trainer = Trainer(model, optim.SGD(model.parameters(), lr=0.1), clip_grad_norm=1e-3,
                      penalties=(nn.L2Penalty(0.1),))
    ds = small_problem(rng, 16)
    before = [p.data.copy() for p in model.parameters()]
    trainer.fit(data.DataLoader(ds, batch_size=16), epochs=1)
    step = np.sqrt(sum(np.sum((p.data - b) ** 2) for p, b in zip(model.parameters(), before)))
    assert step == pytest.approx(0.1 * 1e-3, rel=1e-3)  # lr times the clipped norm
    assert trainer.last_grad_norm > 1e-3


class Arrays(data.Dataset):
    """Float targets: a regression data set, map-style, as a user writes one for DataLoader and evaluate."""

    def __init__(self, x, y):
        self.x, self.y = x, y

    def __len__(self):
        return len(self.y)

    def __getitem__(self, index):
        return self.x[index], self.y[index]


def regression_problem(rng, n=256):
    x = rng.standard_normal((n, 5)).astype(np.float32)
    y = (x @ np.array([[1.0], [-2.0], [0.5], [0.0], [3.0]]) + 0.1 * rng.standard_normal((n, 1))).astype(np.float32)
    return Arrays(x, y)


@pytest.mark.parametrize("loss", [nn.MSELoss, nn.L1Loss])
def test_regression_reports_mae_rmse_r2_instead_of_accuracy(rng, loss):
    train, val = regression_problem(rng), regression_problem(rng, 128)
    model = nn.Sequential(nn.Linear(5, 16, rng=rng), nn.ReLU(), nn.Linear(16, 1, rng=rng))
    trainer = Trainer(model, optim.Adam(model.parameters(), lr=0.02), loss(),
                      metrics=[metric.MAE(), metric.RMSE(), metric.R2()])
    history = trainer.fit(data.DataLoader(train, batch_size=32, shuffle=True, seed=0), val_data=val, epochs=15)
    last = history[-1]
    assert np.isnan(last.train_accuracy) and np.isnan(last.val_accuracy)
    assert last.extra["val_r2"] > 0.95
    ev = evaluate(model, val, loss(), metrics=[metric.MAE(), metric.RMSE(), metric.R2()])
    pred = model.eval()(val.x).astype(np.float64)
    error = pred - val.y
    assert ev.as_dict() == pytest.approx({"loss": ev.loss, "samples": 128, "mae": np.abs(error).mean(),
                                          "rmse": np.sqrt(np.square(error).mean()),
                                          "r2": 1 - np.square(error).sum() / np.square(val.y - val.y.mean()).sum()},
                                         rel=1e-5)
    assert ev.confusion is None and np.isnan(ev.accuracy)
    assert last.as_dict()["val_mae"] == pytest.approx(ev.as_dict()["mae"], rel=1e-6)


def test_classification_evaluation_keeps_its_fields_and_adds_requested_metrics(rng):
    logits = np.array([[5, 0, 0], [0, 5, 0], [0, 5, 0], [0, 0, 5]], np.float32)
    labels = np.array([0, 1, 2, 2])

    class Fixed(nn.Module):
        def forward(self, x):
            return x

    ds = data.ArrayDataset(logits, labels, 3, "t")
    assert list(evaluate(Fixed(), ds, num_classes=3).as_dict()) == [
        "loss", "accuracy", "samples", "per_class_accuracy", "confusion"]
    ev = evaluate(Fixed(), ds, metrics=[metric.Accuracy(), metric.F1(3), metric.Recall(3, average=None)])
    assert ev.accuracy == 0.75 and ev.confusion is None
    assert ev.as_dict()["f1"] == pytest.approx(np.mean([1, 2 / 3, 2 / 3]))
    assert ev.as_dict()["recall_per_class"] == [1.0, 1.0, 0.5]
    assert ev.scalars("val_") == {"val_f1": pytest.approx(np.mean([1, 2 / 3, 2 / 3]))}


def test_extra_validation_metrics_become_epoch_metrics_and_survive_the_trainer_state(rng):
    model = nn.Sequential(nn.Linear(6, 2, rng=rng))
    trainer = Trainer(model, optim.SGD(model.parameters(), lr=0.1), metrics=[metric.Accuracy(), metric.F1(2)])
    ds = small_problem(rng)
    history = trainer.fit(data.DataLoader(ds, batch_size=16), val_data=ds, epochs=2)
    keys = list(history[-1].as_dict())
    assert keys[:8] == ["epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr", "seconds",
                        "samples_per_second"] and keys[8:] == ["val_f1"]
    assert not np.isnan(history[-1].train_accuracy)
    again = Trainer(model, optim.SGD(model.parameters(), lr=0.1))
    again.load_state_dict(trainer.state_dict())
    assert [m.as_dict() for m in again.history] == [m.as_dict() for m in history]
    assert again.history[-1].extra == {"val_f1": history[-1].extra["val_f1"]}
