"""TensorBoard event files, read back with TensorBoard's own reader: scalars equal the history, weight
histograms are there, a resumed run replaces what the interrupted one wrote after its checkpoint."""

import sys

import numpy as np
import pytest

from nntrain import data, nn, optim
from nntrain.train import Trainer

pytest.importorskip("tensorboardX")
event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
event_file_loader = pytest.importorskip("tensorboard.backend.event_processing.event_file_loader")

from nntrain.tensorboard import TensorBoard, epoch_tag  # noqa: E402


def read(log_dir):
    acc = event_accumulator.EventAccumulator(str(log_dir), size_guidance={"scalars": 0, "histograms": 0})
    acc.Reload()
    return acc


def setup(rng_seed=0, callbacks=()):
    rng = np.random.default_rng(rng_seed)
    x = rng.standard_normal((64, 6)).astype(np.float32)
    ds = data.ArrayDataset(x, (x[:, 0] > 0).astype(np.int64), 2, "toy")
    model = nn.Sequential(nn.Linear(6, 4, rng=rng), nn.ReLU(), nn.Linear(4, 2, rng=rng))
    trainer = Trainer(model, optim.SGD(model.parameters(), lr=0.1), callbacks=list(callbacks))
    return trainer, data.DataLoader(ds, batch_size=16, shuffle=True, seed=0), ds


def test_scalars_and_histograms_read_back_with_tensorboards_reader(tmp_path):
    board = TensorBoard(tmp_path, every=2)
    trainer, loader, ds = setup(callbacks=[board])
    history = trainer.fit(loader, val_data=ds, epochs=2)
    acc = read(tmp_path)
    tags = acc.Tags()
    assert {"loss/train", "loss/val", "accuracy/train", "accuracy/val", "lr", "batch/loss", "batch/lr",
            "grad_norm/0", "grad_norm/2", "epoch"} <= set(tags["scalars"])
    assert {"weights/0.weight", "weights/0.bias", "weights/2.weight", "weights/2.bias"} == set(tags["histograms"])
    for tag, key in (("loss/train", "train_loss"), ("loss/val", "val_loss"), ("accuracy/val", "val_accuracy")):
        events = acc.Scalars(tag)
        assert [e.step for e in events] == [4, 8]  # 4 steps per epoch
        np.testing.assert_allclose([e.value for e in events], [getattr(m, key) for m in history], rtol=1e-6)
    assert [e.step for e in acc.Scalars("batch/loss")] == [2, 4, 6, 8]
    weights = acc.Histograms("weights/2.weight")[-1].histogram_value
    assert weights.num == 8 and weights.min == pytest.approx(trainer.model[2].weight.data.min())


def test_a_resumed_run_purges_events_written_after_its_checkpoint(tmp_path):
    board = TensorBoard(tmp_path, every=1, histograms=False)
    trainer, loader, _ = setup(callbacks=[board])
    trainer.fit(loader, epochs=1)
    saved = (trainer.state_dict(), loader.state_dict())
    first_epoch_2 = trainer.fit(loader, epochs=2)[-1]  # written, then "lost" by a crash
    fresh = TensorBoard(tmp_path, every=1, histograms=False)
    trainer, loader, _ = setup(callbacks=[fresh])
    trainer.model.load_state_dict(setup()[0].model.state_dict())  # any weights: the events must be the new ones
    trainer.load_state_dict(saved[0])
    loader.load_state_dict(saved[1])
    for p in trainer.model.parameters():
        p.data *= 0.5
    again = trainer.fit(loader, epochs=2)[-1]
    steps = [e.step for e in read(tmp_path).Scalars("batch/loss")]
    assert steps == list(range(1, 9))  # each step once: 5..8 of the first run were purged
    # ... by the resumed file's own word (SessionLog.START at step 5), not by a reader's guess from the
    # steps going backwards
    newest = sorted(tmp_path.iterdir())[-1]
    starts = [e.step for e in event_file_loader.EventFileLoader(str(newest)).Load()
              if e.HasField("session_log") and e.session_log.status == e.session_log.START]
    assert starts == [5]
    final = read(tmp_path).Scalars("loss/train")
    assert [e.step for e in final] == [4, 8] and final[-1].value == pytest.approx(again.train_loss, rel=1e-6)
    assert again.train_loss != pytest.approx(first_epoch_2.train_loss, rel=1e-3)


def test_epoch_tags_pair_train_with_validation():
    assert [epoch_tag(k) for k in ("train_loss", "val_loss", "val_mae", "lr")] == ["loss/train", "loss/val",
                                                                                 "mae/val", "lr"]


def test_without_tensorboardx_the_error_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "tensorboardX", None)
    with pytest.raises(ImportError, match=r"needs tensorboardX: pip install 'nntrain\[tensorboard\]'"):
        TensorBoard(tmp_path)
