"""nntrain.Model: prepare / fit / evaluate / predict / save / load / summary / lr_find over the Trainer."""

import os

import numpy as np
import pytest

import nntrain
from nntrain import callbacks, data, metric, nn, optim
from nntrain import functional as F
from nntrain.checkpoint import CheckpointError
from nntrain.data import ArrayDataset, DataLoader, Dataset, transforms
from nntrain.model import NotPreparedError
from nntrain.progress import epoch_line


@pytest.fixture(scope="module")
def digits():
    return data.load_digits(val_fraction=0.2, seed=0)


def mlp(seed=0, hidden=32):
    rng = np.random.default_rng(seed)
    return nn.Sequential(nn.Flatten(), nn.Linear(64, hidden, rng=rng), nn.ReLU(), nn.Linear(hidden, 10, rng=rng))


def prepared(seed=0, metrics=None, lr=1e-2, **model_options):
    model = nntrain.Model(mlp(seed), **model_options)
    model.prepare(optim.Adam(model.parameters(), lr=lr), nn.CrossEntropyLoss(),
                  metric.Accuracy() if metrics is None else metrics)
    return model


def weights(model):
    return {k: v.copy() for k, v in model.network.state_dict().items()}


def assert_same_weights(a, b):
    wa, wb = weights(a), weights(b)
    assert wa.keys() == wb.keys()
    for k in wa:
        np.testing.assert_array_equal(wa[k], wb[k], err_msg=k)


class Inputs(Dataset):
    """Examples without labels: what predict takes."""

    def __init__(self, x):
        self.x = x

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.x[i]


class Recorded(Dataset):
    """An ArrayDataset's examples one by one, recording which were asked for, in float64 (as a careless
    user's data set returns them)."""

    def __init__(self, ds):
        self.ds, self.asked = ds, []

    def __len__(self):
        return len(self.ds)

    def __getitem__(self, i):
        self.asked.append(i)
        x, y = self.ds[i]
        return x.astype(np.float64), int(y)


# ---- fit -------------------------------------------------------------------------------------------------
def test_fit_returns_the_history_as_keras_does(digits):
    model = prepared()
    history = model.fit(digits.train, eval_data=digits.val, batch_size=32, epochs=3, verbose=0)
    assert list(history) == ["loss", "acc", "val_loss", "val_acc", "lr"]
    assert all(len(v) == 3 for v in history.values())
    epochs = model.trainer.history
    assert history["loss"] == [m.train_loss for m in epochs]
    assert history["val_acc"] == [m.val_accuracy for m in epochs]
    assert history["loss"][-1] < history["loss"][0] and history["val_acc"][-1] > 0.8
    # the last epoch's validation figures are what evaluate measures on the same data
    ev = model.evaluate(digits.val, batch_size=1000)
    assert ev["acc"] == history["val_acc"][-1] and ev["loss"] == pytest.approx(history["val_loss"][-1], rel=1e-6)


def test_history_names_every_metric_and_leaves_out_what_was_not_measured(digits):
    model = prepared(metrics=[metric.Accuracy(topk=(1, 3)), metric.F1()])
    history = model.fit(digits.train, eval_data=digits.val, batch_size=64, epochs=1, verbose=0)
    assert list(history) == ["loss", "acc", "val_loss", "val_acc", "val_acc_top3", "val_f1", "lr"]
    bare = prepared(metrics=[])
    assert list(bare.fit(digits.train, batch_size=64, epochs=1, verbose=0)) == ["loss", "lr"]


def test_fit_is_the_trainer_on_a_shuffled_loader(digits):
    """A thin layer: the weights are those of Trainer.fit over DataLoader(shuffle=True, seed=Model's seed)."""
    model = nntrain.Model(mlp(3), seed=7)
    model.prepare(optim.Adam(model.parameters(), lr=1e-2), nn.CrossEntropyLoss(), metric.Accuracy())
    model.fit(digits.train, batch_size=50, epochs=2, verbose=0)
    net = mlp(3)
    opt = optim.Adam(net.parameters(), lr=1e-2)
    nntrain.Trainer(net, opt, nn.CrossEntropyLoss()).fit(DataLoader(digits.train, 50, shuffle=True, seed=7), epochs=2)
    for k, v in net.state_dict().items():
        np.testing.assert_array_equal(model.network.state_dict()[k], v)


def test_fit_takes_a_dataloader_and_any_map_style_dataset(digits):
    a = prepared()
    a.fit(DataLoader(digits.train, batch_size=64, shuffle=True, seed=0), verbose=0, epochs=2)
    b = prepared()
    b.fit(Recorded(digits.train), batch_size=64, epochs=2, verbose=0)  # float64 examples, int labels
    assert_same_weights(a, b)
    assert b.network.dtype == np.float32


def test_successive_fits_continue_the_epochs_and_the_data_order(digits):
    once, twice = prepared(), prepared()
    once.fit(digits.train, batch_size=64, epochs=4, verbose=0)
    first = twice.fit(digits.train, batch_size=64, epochs=2, verbose=0)
    second = twice.fit(digits.train, batch_size=64, epochs=2, verbose=0)
    assert_same_weights(once, twice)
    assert len(first["loss"]) == len(second["loss"]) == 2 and twice.trainer.epoch == 4


def test_a_stop_inside_an_epoch_lets_the_next_fit_start_a_fresh_epoch(digits):
    class StopAfter(callbacks.Callback):
        def on_batch_end(self, trainer, epoch, step, loss, batch_size):
            trainer.stop_training = step == 3

    ds = Recorded(digits.train)
    model = prepared()
    model.fit(ds, batch_size=100, epochs=5, callbacks=[StopAfter()], verbose=0)
    assert len(ds.asked) == 300
    ds.asked.clear()
    model.fit(ds, batch_size=100, epochs=1, verbose=0)
    rng = np.random.default_rng(0)
    first, second = rng.permutation(len(ds)), rng.permutation(len(ds))
    assert ds.asked == list(second) != list(first)  # the next epoch's order, not the stopped one's again


def test_callbacks_pass_through(digits):
    seen = []

    class Record(callbacks.Callback):
        def on_epoch_end(self, trainer, metrics):
            seen.append(metrics.epoch)

    model = prepared(lr=0.5)  # too large: the validation loss stops improving at once
    stop = callbacks.EarlyStopping("val_loss", patience=1, restore_best_weights=True)
    history = model.fit(digits.train, eval_data=digits.val, batch_size=64, epochs=30, callbacks=[stop, Record()],
                        verbose=0)
    assert seen == list(range(1, len(history["loss"]) + 1)) and len(seen) < 30
    assert model.evaluate(digits.val, batch_size=1000)["loss"] == pytest.approx(min(history["val_loss"]), rel=1e-6)
    threshold = callbacks.StopAtThreshold("loss", threshold=1.5)
    history = prepared().fit(digits.train, batch_size=16, epochs=5, callbacks=threshold, verbose=0)
    assert len(history["loss"]) == 1 and threshold.stopped_step is not None


def test_model_checkpoint_and_lr_callbacks_see_the_models_metrics(digits, tmp_path):
    model = prepared(metrics=[metric.Accuracy(), metric.F1()])
    path = tmp_path / "best.safetensors"
    plateau = callbacks.ReduceLROnPlateau("val_f1", factor=0.5, patience=1, mode="max")
    model.fit(digits.train, eval_data=digits.val, batch_size=64, epochs=2, verbose=0,
              callbacks=[callbacks.ModelCheckpoint(str(path), monitor="val_f1", save_best_only=True), plateau])
    assert path.exists()


def test_verbose_shows_the_clis_epoch_lines_and_silence_prints_nothing(digits, capsys):
    model = prepared()
    model.fit(digits.train, eval_data=digits.val, batch_size=64, epochs=2, verbose=0)
    model.evaluate(digits.val, batch_size=64)
    model.predict(digits.val.x)
    assert capsys.readouterr() == ("", "")
    model.fit(digits.train, eval_data=digits.val, batch_size=64, epochs=1, verbose=1)
    out = capsys.readouterr().out
    m = model.trainer.history[-1]
    assert out.splitlines() == [epoch_line(m, 3)]
    assert out.startswith("epoch   3/3  train loss ") and " val loss " in out and "samples/s" in out
    model.evaluate(digits.val, batch_size=64, verbose=1)
    assert capsys.readouterr().out.startswith("evaluate  loss ")


# ---- evaluate and predict ------------------------------------------------------------------------------
def test_evaluate_returns_the_loss_and_each_metric_by_its_name(digits):
    model = prepared(metrics=[metric.Accuracy(topk=(1, 3)), metric.ConfusionMatrix(10)])
    model.fit(digits.train, batch_size=64, epochs=2, verbose=0)
    result = model.evaluate(digits.test, batch_size=7)
    assert list(result) == ["loss", "acc", "acc_top3", "confusion_matrix"]
    logits = model.predict(digits.test.x)
    assert result["acc"] == np.mean(logits.argmax(1) == digits.test.y)
    top3 = np.argsort(-logits, axis=1)[:, :3]
    assert result["acc_top3"] == np.mean((top3 == digits.test.y[:, None]).any(1))
    assert result["loss"] == pytest.approx(nn.CrossEntropyLoss()(logits, digits.test.y), rel=1e-5)
    assert result["confusion_matrix"].sum() == len(digits.test.y) and isinstance(result["acc"], float)


def test_predict_takes_arrays_tensors_datasets_with_or_without_labels_and_loaders(digits):
    model = nntrain.Model(nn.Sequential(nn.Flatten(), nn.Linear(64, 10), nn.Dropout(0.5)))
    x = digits.test.x
    expected = model.predict(x, batch_size=1000)
    assert expected.shape == (360, 10) and expected.dtype == np.float32
    assert model.network.training  # eval mode only while predicting: Dropout off, then back on
    for given in (nntrain.Tensor(x), digits.test, Inputs(x), Inputs(x.astype(np.float64)),
                  DataLoader(digits.test, batch_size=100), [xi for xi in x]):
        np.testing.assert_allclose(model.predict(given, batch_size=64), expected, rtol=1e-6, atol=1e-6)


def test_functional_losses_train_as_their_modules(digits):
    a, b = prepared(), nntrain.Model(mlp())
    b.prepare(optim.Adam(b.parameters(), lr=1e-2), F.cross_entropy, metric.Accuracy())
    for model in (a, b):
        model.fit(digits.train, batch_size=64, epochs=1, verbose=0)
    assert_same_weights(a, b)
    assert a.evaluate(digits.val, 64) == b.evaluate(digits.val, 64)


# ---- save and load -------------------------------------------------------------------------------------
@pytest.mark.parametrize("load_before_prepare", [False, True])
def test_save_and_load_resume_to_the_weights_of_an_uninterrupted_fit(digits, tmp_path, load_before_prepare):
    flip = ArrayDataset(digits.train.x, digits.train.y, 10, transform=transforms.RandomHorizontalFlip())
    stop = callbacks.EarlyStopping("val_loss", patience=50)
    whole = prepared()
    whole.fit(flip, eval_data=digits.val, batch_size=64, epochs=4, verbose=0, callbacks=[stop])

    first = prepared()
    first.fit(flip, eval_data=digits.val, batch_size=64, epochs=2, verbose=0,
              callbacks=[callbacks.EarlyStopping("val_loss", patience=50)])
    first.save(tmp_path / "mlp")
    assert sorted(os.listdir(tmp_path)) == ["mlp.optim.safetensors", "mlp.safetensors"]

    resumed = nntrain.Model(mlp(seed=99))  # other initial weights: all of them must come from the file
    if load_before_prepare:
        resumed.load(tmp_path / "mlp")
    resumed.prepare(optim.Adam(resumed.parameters(), lr=1e-2), nn.CrossEntropyLoss(), metric.Accuracy())
    if not load_before_prepare:
        resumed.load(str(tmp_path / "mlp.safetensors"))
    again = callbacks.EarlyStopping("val_loss", patience=50)
    history = resumed.fit(flip, eval_data=digits.val, batch_size=64, epochs=2, verbose=0, callbacks=[again])
    assert_same_weights(whole, resumed)
    assert resumed.trainer.epoch == 4 and history["loss"] == [m.train_loss for m in whole.trainer.history[2:]]
    assert again.best.value == stop.best.value
    for p, q in zip(whole.optimizer.param_groups[0]["params"], resumed.optimizer.param_groups[0]["params"]):
        np.testing.assert_array_equal(whole.optimizer.state[p]["exp_avg_sq"], resumed.optimizer.state[q]["exp_avg_sq"])


def test_load_without_the_optimiser_file_loads_the_weights_alone(digits, tmp_path):
    trained = prepared()
    trained.fit(digits.train, batch_size=64, epochs=1, verbose=0)
    trained.save(tmp_path / "w", training=False)
    assert os.listdir(tmp_path) == ["w.safetensors"]
    fresh = prepared(seed=5)
    fresh.load(tmp_path / "w")
    assert_same_weights(trained, fresh)
    assert fresh.trainer.epoch == 0 and not fresh.optimizer.state
    trained.save(tmp_path / "w")  # with the optimiser file ...
    fresh = prepared(seed=5)
    fresh.load(tmp_path / "w", reset_optimizer=True)  # ... left aside when asked
    assert fresh.trainer.epoch == 0 and not fresh.optimizer.state
    trained.save(tmp_path / "w", training=False)  # saving the weights alone removes the stale training state
    assert os.listdir(tmp_path) == ["w.safetensors"]


def test_load_errors_are_one_line_naming_the_file(digits, tmp_path):
    model = prepared()
    with pytest.raises(CheckpointError, match=r"nothing\.safetensors: no such file"):
        model.load(tmp_path / "nothing")
    model.fit(digits.train, batch_size=64, epochs=1, verbose=0)
    model.save(tmp_path / "m")
    wider = nntrain.Model(mlp(hidden=48))
    with pytest.raises(CheckpointError, match=r"m\.safetensors: does not fit this network \(load_state_dict: ") as e:
        wider.load(tmp_path / "m")
    assert "\n" not in str(e.value)
    sgd = nntrain.Model(mlp())
    sgd.prepare(optim.SGD(sgd.parameters(), lr=0.1), nn.CrossEntropyLoss())
    with pytest.raises(CheckpointError, match=r"m\.optim\.safetensors: holds the state of Adam, but the model was "
                                              r"prepared with SGD"):
        sgd.load(tmp_path / "m")
    (tmp_path / "m.optim.safetensors").write_bytes(b"garbage!" * 3)
    with pytest.raises(CheckpointError, match=r"m\.optim\.safetensors: "):
        prepared().load(tmp_path / "m")


# ---- summary, parameters, lr_find ---------------------------------------------------------------------
def test_summary_parameters_and_network(digits):
    net = mlp()
    model = nntrain.Model(net)
    assert model.network is net and model.parameters() == net.parameters()
    with pytest.raises(ValueError, match="Model.summary: give input_size"):
        model.summary()
    table = model.summary((1, 8, 8))
    assert table.total == sum(p.numel() for p in net.parameters()) and "Linear-2" in str(table)
    model.predict(digits.test.x[:3])
    assert str(model.summary()) == str(table)  # the shape of the data last seen


def test_lr_find_runs_the_range_test_and_puts_everything_back(digits):
    model = prepared()
    before = weights(model)
    result = model.lr_find(digits.train, num_steps=30, end_lr=1.0)
    assert 1e-7 <= result.suggestion <= 1.0 and len(result.lrs) >= 5
    for k, v in before.items():
        np.testing.assert_array_equal(model.network.state_dict()[k], v)
    assert not model.optimizer.state


# ---- misuse: one-line errors ---------------------------------------------------------------------------
def one_line(excinfo):
    assert "\n" not in str(excinfo.value)
    return str(excinfo.value)


def test_using_a_model_before_prepare_gives_what_is_missing(digits):
    model = nntrain.Model(mlp())
    for call in (lambda: model.fit(digits.train), lambda: model.evaluate(digits.val),
                 lambda: model.lr_find(digits.train)):
        with pytest.raises(NotPreparedError, match=r"call prepare\(optimizer, loss, metrics\) first") as e:
            call()
        assert isinstance(e.value, ValueError) and isinstance(e.value, RuntimeError)
    model.prepare(optim.Adam(model.parameters()))
    with pytest.raises(ValueError, match=r"Model.fit: no loss; give one to prepare, e.g. prepare\(optimizer, "
                                         r"nn.CrossEntropyLoss\(\)\)"):
        model.fit(digits.train)
    with pytest.raises(ValueError, match="Model.evaluate: no loss"):
        model.evaluate(digits.val)
    model.prepare(loss=nn.CrossEntropyLoss())
    with pytest.raises(ValueError, match="Model.fit: no optimizer"):
        model.fit(digits.train)
    assert set(model.evaluate(digits.val, batch_size=100)) == {"loss"}  # evaluating needs no optimiser


@pytest.mark.parametrize("args, error, message", [
    (("adam",), TypeError, r"optimizer must be an nntrain.optim optimizer .* got a str"),
    ((optim.Adam,), TypeError, "got the class Adam"),
    ((None, nn.CrossEntropyLoss), TypeError, r"loss is the class CrossEntropyLoss; pass an instance, "
                                             r"CrossEntropyLoss\(\)"),
    ((None, metric.Accuracy()), TypeError, r"loss is a metric \(Accuracy\); metrics come third"),
    ((None, "mse"), TypeError, "loss must be a loss module"),
    ((None, None, "accuracy"), TypeError, "metrics must be nntrain.metric objects .* got a str"),
    ((None, None, [metric.Accuracy]), TypeError, r"metric is the class Accuracy; pass an instance"),
])
def test_prepare_rejects_what_it_cannot_use(args, error, message):
    model = nntrain.Model(mlp())
    with pytest.raises(error, match=message) as e:
        model.prepare(*args)
    one_line(e)


def test_prepare_rejects_an_optimizer_of_another_network():
    model = nntrain.Model(mlp())
    with pytest.raises(ValueError, match="updates parameters that are not this network's"):
        model.prepare(optim.SGD(mlp().parameters(), lr=0.1), nn.CrossEntropyLoss())


def test_model_takes_a_module():
    with pytest.raises(TypeError, match="Model: network must be an nntrain.nn.Module, got function"):
        nntrain.Model(lambda x: x)


def test_fit_and_evaluate_reject_data_they_cannot_batch(digits):
    model = prepared()
    x, y = digits.train.x, digits.train.y
    cases = [(x, r"train_data is a float32 array of shape \(\d+, 1, 8, 8\); expected a Dataset or a DataLoader "
                 r"\(for arrays of inputs and labels: nntrain.data.ArrayDataset\(x, y\)\)"),
             ((x, y), "train_data is a tuple of 2; expected a Dataset or a DataLoader"),
             (((a, b) for a, b in zip(x, y)), "train_data is a generator; expected a Dataset"),
             (None, "train_data is a NoneType"),
             ("digits", "train_data is a str")]
    for data_, message in cases:
        with pytest.raises(TypeError, match="Model.fit: " + message) as e:
            model.fit(data_, verbose=0)
        one_line(e)
    with pytest.raises(TypeError, match=r"Model.fit: train_data: a batch is a float32 array of shape \(8, 1, 8, 8\), "
                                        r"expected \(inputs, labels\)") as e:
        model.fit(Inputs(x), batch_size=8, verbose=0)
    one_line(e)
    uint8 = [(np.uint8(xi * 255), int(yi)) for xi, yi in zip(x[:20], y)]  # a list is a map-style data set
    with pytest.raises(TypeError, match=r"Model.fit: train_data: inputs are uint8 arrays, the network takes "
                                        r"float32; convert them"):
        model.fit(uint8, batch_size=8, verbose=0)
    with pytest.raises(TypeError, match=r"Model.evaluate: eval_data is a float32 array"):
        model.evaluate(x)
    with pytest.raises(TypeError, match=r"Model.predict: test_data is a int"):
        model.predict(3)


def test_fit_rejects_bad_arguments(digits):
    model = prepared()
    for kwargs, error, message in [
            ({"epochs": 0}, ValueError, "epochs must be a positive integer, got 0"),
            ({"verbose": 3}, ValueError, "verbose must be 0 .* got 3"),
            ({"batch_size": 0}, ValueError, "batch_size must be a positive integer"),
            ({"callbacks": ["early"]}, TypeError, "callbacks must be nntrain.callbacks objects"),
            ({"callbacks": [callbacks.EarlyStopping]}, TypeError, "got the class EarlyStopping")]:
        with pytest.raises(error, match=message) as e:
            model.fit(digits.train, **kwargs)
        one_line(e)
    assert model.trainer.epoch == 0


def test_num_workers_fetch_ahead_without_changing_the_training(digits, monkeypatch):
    import nntrain.model

    made = []

    class Spy(DataLoader):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(nntrain.model, "DataLoader", Spy)
    examples = [(x, int(y)) for x, y in zip(digits.train.x[:400], digits.train.y[:400])]  # a list is a data set
    a, b = prepared(), prepared()
    a.fit(examples, batch_size=32, epochs=2, verbose=0)
    b.fit(examples, batch_size=32, epochs=2, verbose=0, num_workers=2)
    assert [(m.num_workers, m.batch_size, m.shuffle, m.drop_last) for m in made] == [(0, 32, True, False),
                                                                                     (2, 32, True, False)]
    assert_same_weights(a, b)
