"""The learning-rate range test: its suggestion lands within a factor of 3 of the best fixed rate of a small
sweep on the digits; it leaves model, optimiser and loader as they were; it stops when the loss diverges."""

import numpy as np
import pytest

from nntrain import data, evaluate, nn, optim, presets
from nntrain.lr_finder import lr_find, suggest
from nntrain.train import Trainer

OPTIMIZERS = {"adam": lambda params, lr: optim.Adam(params, lr=lr),
              "sgd-momentum": lambda params, lr: optim.SGD(params, lr=lr, momentum=0.9)}


@pytest.fixture(scope="module")
def digits():
    splits, _ = data.normalise(data.load_digits())
    return data.split(splits.train, 0.2, seed=0)


def mlp(train):
    return presets.build("mlp", train.input_shape, train.classes, rng=np.random.default_rng(0))


def loader(train):
    return data.DataLoader(train, batch_size=32, shuffle=True, seed=0)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_the_suggestion_is_within_3x_of_the_best_rate_of_a_sweep(digits, name):
    train, val = digits
    make = OPTIMIZERS[name]
    model = mlp(train)
    suggestion = lr_find(model, make(model.parameters(), 1.0), loader(train), num_steps=200).suggestion
    sweep = {}
    for lr in np.logspace(-4, -1, 6):  # a factor of 4 apart
        model = mlp(train)
        Trainer(model, make(model.parameters(), lr)).fit(loader(train), epochs=3)
        sweep[lr] = evaluate(model, val).loss
    best = min(sweep, key=sweep.get)
    assert best / 3 <= suggestion <= best * 3, f"suggested {suggestion:.3g}, sweep {sweep}"


def test_model_optimiser_and_loader_are_left_as_they_were(digits, tmp_path):
    train, _ = digits
    model = mlp(train)
    model.eval()
    opt = optim.Adam(model.parameters(), lr=1e-3)
    batches = loader(train)
    Trainer(model, opt).fit(batches, epochs=1)  # some optimiser state and a used loader
    model.eval()
    before = ({k: v.copy() for k, v in model.state_dict().items()}, opt.state_dict(), batches.state_dict())
    result = lr_find(model, opt, batches, num_steps=50)
    assert all(np.array_equal(v, before[0][k]) for k, v in model.state_dict().items())
    after = opt.state_dict()
    assert after["param_groups"] == before[1]["param_groups"]
    assert all(np.array_equal(after["state"][i][k], before[1]["state"][i][k]) for i in after["state"]
               for k in after["state"][i])
    assert batches.state_dict() == before[2] and not model.training
    assert len(result.lrs) == len(result.losses) == len(result.smoothed) <= 50
    assert result.lrs[0] == pytest.approx(1e-7) and np.all(np.diff(np.log(result.lrs)) > 0)
    assert result.plot(tmp_path / "lr_find.png")
    with open(tmp_path / "lr_find.png", "rb") as f:
        assert f.read(4) == b"\x89PNG"


def test_the_test_stops_when_the_loss_diverges(digits):
    train, _ = digits
    model = mlp(train)
    result = lr_find(model, optim.SGD(model.parameters(), lr=1.0), loader(train), end_lr=1e4, num_steps=100)
    assert result.diverged and len(result.lrs) < 100
    assert result.smoothed[-1] > 4 * result.smoothed.min() or not np.isfinite(result.losses[-1])


def test_suggestions_on_a_made_up_curve():
    lrs = np.logspace(-5, 0, 101)
    x = np.log10(lrs)
    loss = 2 - np.tanh(x + 3) + np.where(x > -1, 30 * (x + 1) ** 2, 0)  # steepest at 1e-3, lowest near 1e-1.1
    steepest, min_over_10 = suggest(lrs, loss)
    assert steepest == pytest.approx(1e-3, rel=0.15)
    assert min_over_10 == pytest.approx(lrs[np.argmin(loss)] / 10)


def test_it_is_nntrain_lr_find():
    import nntrain

    assert nntrain.lr_find is lr_find


def test_bad_arguments(digits):
    train, _ = digits
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 10))
    opt = optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="need 0 < start_lr < end_lr"):
        lr_find(model, opt, loader(train), start_lr=1.0, end_lr=0.1)
    with pytest.raises(ValueError, match="num_steps must be an integer >= 10"):
        lr_find(model, opt, loader(train), num_steps=3)
    with pytest.raises(ValueError, match="no batches"):
        lr_find(model, opt, [])
