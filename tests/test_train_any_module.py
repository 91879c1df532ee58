"""A network written as forward only (the material's MyMLP) trains through the Trainer and by hand, to the same
weights; the Trainer's guards work for any Module."""

import os

import numpy as np
import pytest

import nntrain
from nntrain import data, nn, optim
from nntrain.train import NonFiniteError, Trainer, evaluate


class MyMLP(nn.Module):
    def __init__(self, num_classes=10, rng=None):
        super().__init__()
        self.features = nn.Sequential(nn.Linear(64, 100, rng=rng), nn.ReLU(), nn.Linear(100, 256, rng=rng), nn.ReLU(),
                                      nn.Linear(256, 256, rng=rng), nn.ReLU(), nn.Linear(256, num_classes, rng=rng))

    def forward(self, x):
        return self.features(x.flatten(1))


@pytest.fixture(scope="module")
def digits():
    splits, _ = data.normalise(data.load_digits())
    return splits


def _train_by_hand(model, loader, epochs):
    opt = optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(epochs):
        for x, y in loader:
            opt.zero_grad()
            loss = loss_fn(model(nntrain.Tensor(x)), y)
            loss.backward()
            opt.step()


def test_the_material_mlp_trains_to_the_same_weights_through_trainer_and_by_hand(digits):
    a, b = MyMLP(rng=np.random.default_rng(3)), MyMLP(rng=np.random.default_rng(3))
    trainer = Trainer(a, optim.Adam(a.parameters(), lr=1e-3))
    trainer.fit(data.DataLoader(digits.train, batch_size=32, shuffle=True, seed=0), epochs=3)
    _train_by_hand(b, data.DataLoader(digits.train, batch_size=32, shuffle=True, seed=0), epochs=3)
    for (name, p), (_, q) in zip(a.named_parameters(), b.named_parameters()):
        np.testing.assert_array_equal(p.data, q.data, err_msg=name)
    assert evaluate(a, digits.test).accuracy > 0.9


def test_a_forward_that_returns_no_tensor_is_a_clear_error(digits):
    class Broken(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(64, 10)

        def forward(self, x):
            return [self.fc(x.flatten(1))]

    model = Broken()
    with pytest.raises(TypeError, match="Broken.forward returned list, expected a Tensor"):
        Trainer(model, optim.SGD(model.parameters(), lr=0.1)).train_step(digits.train.x[:4], digits.train.y[:4])


def test_a_nan_names_the_first_layer_whose_output_went_non_finite(digits):
    model = MyMLP(rng=np.random.default_rng(0))
    model.features[2].weight.data[0, 0] = np.inf   # the second Linear's outputs become inf/nan
    trainer = Trainer(model, optim.SGD(model.parameters(), lr=0.1))
    with pytest.raises(NonFiniteError, match=r"first non-finite output in layer 'features\.2' \(Linear\)"):
        trainer.train_step(digits.train.x[:8], digits.train.y[:8], epoch=1, step=1)


def test_unused_parameters_keep_no_gradient_and_are_not_stepped(digits):
    class Partial(nn.Module):
        def __init__(self):
            super().__init__()
            self.used, self.unused = nn.Linear(64, 10), nn.Linear(64, 10)

        def forward(self, x):
            return self.used(x.flatten(1))

    model = Partial()
    before = model.unused.weight.data.copy()
    Trainer(model, optim.Adam(model.parameters(), lr=0.1)).train_step(digits.train.x[:8], digits.train.y[:8])
    assert model.unused.weight.grad is None and model.used.weight.grad is not None
    np.testing.assert_array_equal(model.unused.weight.data, before)


def test_the_top_level_names_are_the_functions_not_modules():
    import nntrain.autograd.function  # noqa: F401  (imports the Tensor module as a side effect)

    assert callable(nntrain.tensor) and nntrain.tensor([1.0, 2.0]).dtype == np.float32
    assert callable(nntrain.matmul) and callable(nntrain.cat) and callable(nntrain.no_grad)


EXAMPLE = os.path.join(os.path.dirname(__file__), "..", "examples", "my_mlp.py")


def test_the_material_mlp_trains_to_the_same_weights_through_the_cli_the_trainer_and_by_hand(digits, tmp_path):
    """`nntrain train --model examples/my_mlp.py:MyMLP` (seed 3, no validation carve-out) is the Trainer's run:
    the model built from the seed's generator, batches shuffled from the seed, Adam at 1e-3."""
    from nntrain.checkpoint import load_weights
    from nntrain.user_model import load_class

    from cli_helpers import invoke

    status, _, err = invoke("train", "--model", f"{EXAMPLE}:MyMLP", "--seed", 3, "--epochs", 2, "--batch-size", 32,
                            "--val-split", 0, "--out", tmp_path / "run", "--quiet")
    assert status == 0, err
    cli = load_weights(tmp_path / "run" / "model.safetensors")
    cls = load_class(f"{EXAMPLE}:MyMLP")
    a, b = cls(rng=np.random.default_rng(3)), cls(rng=np.random.default_rng(3))
    Trainer(a, optim.Adam(a.parameters(), lr=1e-3)).fit(
        data.DataLoader(digits.train, batch_size=32, shuffle=True, seed=3), epochs=2)
    _train_by_hand(b, data.DataLoader(digits.train, batch_size=32, shuffle=True, seed=3), epochs=2)
    assert sorted(cli) == sorted(name for name, _ in a.named_parameters())
    for (name, p), (_, q) in zip(a.named_parameters(), b.named_parameters()):
        np.testing.assert_array_equal(p.data, q.data, err_msg=name)
        np.testing.assert_array_equal(cli[name], p.data, err_msg=name)
