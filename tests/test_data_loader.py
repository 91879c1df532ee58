"""nntrain.data.loader: batching (arrays or any map-style data set, with or without workers), exact resume,
split, normalisation and one-hot."""

import os
import time

import numpy as np
import pytest

from nntrain.data import ArrayDataset, DataLoader, DataSplits, Dataset, Normalizer, Subset, normalise, one_hot, split
from nntrain.data.transforms import sample_rng


def dataset(n=10, classes=3):
    x = np.arange(n * 2 * 2, dtype=np.float32).reshape(n, 1, 2, 2)
    return ArrayDataset(x, np.arange(n) % classes, classes, "toy")


@pytest.mark.parametrize("n, batch, drop_last, batches, last", [
    (10, 3, False, 4, 1), (10, 3, True, 3, 3), (9, 3, False, 3, 3), (9, 3, True, 3, 3), (2, 5, False, 1, 2),
    (2, 5, True, 0, None),
])
@pytest.mark.parametrize("shuffle", [False, True])
def test_batch_count_and_sizes(n, batch, drop_last, batches, last, shuffle):
    loader = DataLoader(dataset(n), batch_size=batch, shuffle=shuffle, drop_last=drop_last)
    got = list(loader)
    assert len(loader) == len(got) == batches
    if batches:
        assert all(len(x) == len(y) == batch for x, y in got[:-1]) and len(got[-1][0]) == last


@pytest.mark.parametrize("shuffle", [False, True])
def test_every_example_once_per_epoch_as_contiguous_arrays(shuffle):
    ds = dataset(23)
    loader = DataLoader(ds, batch_size=4, shuffle=shuffle, seed=5)
    for _ in range(3):
        xs, ys = zip(*loader)
        assert all(x.dtype == np.float32 and x.flags.c_contiguous and y.dtype == np.int64 for x, y in zip(xs, ys))
        x, y = np.concatenate(xs), np.concatenate(ys)
        seen = (x[:, 0, 0, 0] / 4).astype(int)  # each example's first value is 4 * its index
        assert sorted(seen.tolist()) == list(range(23))
        np.testing.assert_array_equal(y, ds.y[seen])  # labels travel with their inputs
        assert (seen.tolist() == list(range(23))) != shuffle


def epoch_order(loader):
    return np.concatenate([x[:, 0, 0, 0] for x, _ in loader]).tolist()


def test_same_seed_same_order_and_epochs_differ():
    a, b = DataLoader(dataset(50), 8, shuffle=True, seed=1), DataLoader(dataset(50), 8, shuffle=True, seed=1)
    first, second = epoch_order(a), epoch_order(a)
    assert first == epoch_order(b) and second == epoch_order(b)
    assert first != second
    assert epoch_order(DataLoader(dataset(50), 8, shuffle=True, seed=2)) != first
    assert a.epoch == 2


def test_resume_between_epochs_gives_the_same_next_epoch():
    a = DataLoader(dataset(40), 6, shuffle=True, seed=9)
    epoch_order(a)
    state = a.state_dict()
    expected = epoch_order(a)
    b = DataLoader(dataset(40), 6, shuffle=True, seed=0)
    b.load_state_dict(state)
    assert b.epoch == 1 and epoch_order(b) == expected


def test_resume_mid_epoch_gives_the_remaining_batches():
    a = DataLoader(dataset(40), 6, shuffle=True, seed=9)
    epoch_order(a)
    it = iter(a)
    done = [next(it)[0][:, 0, 0, 0].tolist() for _ in range(3)]
    state = a.state_dict()
    rest = [x[:, 0, 0, 0].tolist() for x, _ in it]
    following = epoch_order(a)
    b = DataLoader(dataset(40), 6, shuffle=True)
    b.load_state_dict(state)
    assert state["batch"] == 3 and state["epoch"] == 1
    assert [x[:, 0, 0, 0].tolist() for x, _ in b] == rest
    assert epoch_order(b) == following and len(done) == 3


def test_state_taken_at_the_last_batch_resumes_that_epoch_empty_then_the_next():
    # A trainer interrupted right after the epoch's last step has not closed the epoch yet (no validation,
    # no schedule step): the resumed loader must finish that epoch with no batches, then go on.
    a = DataLoader(dataset(12), 4, shuffle=True, seed=2)
    for step, _ in enumerate(a, start=1):
        if step == len(a):
            state = a.state_dict()
    assert state["epoch"] == 0 and state["batch"] == len(a)
    b = DataLoader(dataset(12), 4, shuffle=True)
    b.load_state_dict(state)
    assert list(b) == [] and b.epoch == 1
    assert epoch_order(b) == epoch_order(a)


def test_bad_batch_size():
    with pytest.raises(ValueError, match=r"batch_size must be a positive integer, got 0"):
        DataLoader(dataset(), batch_size=0)


def test_split_partitions_reproducibly():
    ds = dataset(20)
    train, val = split(ds, 0.25, seed=7)
    assert len(train) == 15 and len(val) == 5 and train.classes == val.classes == 3
    ids = np.concatenate([train.x[:, 0, 0, 0], val.x[:, 0, 0, 0]]) / 4
    assert sorted(ids.astype(int).tolist()) == list(range(20))
    np.testing.assert_array_equal(split(ds, 0.25, seed=7)[1].x, val.x)
    assert not np.array_equal(split(ds, 0.25, seed=8)[1].x, val.x)


@pytest.mark.parametrize("fraction", [0, 1, -0.1, 1.5, 0.01, 0.99])
def test_split_rejects_fractions_that_leave_a_part_empty(fraction):
    with pytest.raises(ValueError, match=r"val_fraction"):
        split(dataset(20), fraction, seed=0)


def test_normalise_uses_train_statistics_for_every_split():
    rng = np.random.default_rng(0)
    x = rng.normal([1, -2, 5], [2, 0.5, 3], size=(400, 4, 4, 3)).transpose(0, 3, 1, 2)  # 3 channels, own stats
    train = ArrayDataset(x, np.zeros(400, int), 1)
    test = ArrayDataset(rng.normal(size=(50, 3, 4, 4)), np.zeros(50, int), 1)
    out, norm = normalise(DataSplits(train=train, test=test, name="n"))
    np.testing.assert_allclose(out.train.x.mean(axis=(0, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(out.train.x.std(axis=(0, 2, 3)), 1, atol=1e-4)
    np.testing.assert_allclose(norm.mean, train.x.mean(axis=(0, 2, 3)), rtol=1e-5)
    expected = (test.x - norm.mean[:, None, None]) / norm.std[:, None, None]
    np.testing.assert_allclose(out.test.x, expected, rtol=1e-5, atol=1e-6)
    again = Normalizer.from_state_dict(norm.state_dict())
    np.testing.assert_array_equal(again(test).x, out.test.x)


def test_normaliser_leaves_constant_channels_centred():
    x = np.stack([np.full((6, 2), 3.0), np.arange(12.0).reshape(6, 2)], axis=1)
    out = Normalizer.fit(ArrayDataset(x, np.zeros(6, int), 1))(ArrayDataset(x, np.zeros(6, int), 1))
    assert np.isfinite(out.x).all() and (out.x[:, 0] == 0).all()


def test_one_hot():
    np.testing.assert_array_equal(one_hot(np.array([2, 0, 1]), 3), np.eye(3, dtype=np.float32)[[2, 0, 1]])
    assert one_hot(np.array([1]), 4).dtype == np.float32
    with pytest.raises(ValueError, match=r"label 3 at index 1 is outside \[0, 3\)"):
        one_hot(np.array([0, 3]), 3)
    with pytest.raises(ValueError, match=r"1-D integer array"):
        one_hot(np.array([0.5]), 3)


def test_scalars_are_not_data_sets():
    from nntrain.data import DataError

    with pytest.raises(DataError, match="x must have a leading example axis, got a scalar"):
        ArrayDataset(np.float32(1.0), np.zeros(1, np.int64), 2)
    with pytest.raises(DataError, match=r"y must have shape \(N,\), got \(\)"):
        ArrayDataset(np.zeros((1, 3), np.float32), np.int64(0), 2)


# ---- any map-style data set: collate, workers, per-example random keys -------------------------------
class Squares(Dataset):
    """Example i is (an array made from i, plus a random draw of its own, the label i % 3)."""

    def __init__(self, n, fail_at=None, error=ValueError):
        self.n, self.fail_at, self.error = n, fail_at, error

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if i == self.fail_at:
            raise self.error(f"example {i} is broken")
        noise = sample_rng().random()  # what a random transform would draw
        return np.full((2, 3), i, np.float32) + np.float32(noise), i % 3


def run_epochs(loader, epochs):
    return [[(x.copy(), y.copy()) for x, y in loader] for _ in range(epochs)]


def assert_same_batches(a, b):
    assert len(a) == len(b)
    for epoch_a, epoch_b in zip(a, b):
        assert len(epoch_a) == len(epoch_b)
        for (xa, ya), (xb, yb) in zip(epoch_a, epoch_b):
            np.testing.assert_array_equal(xa, xb)
            np.testing.assert_array_equal(ya, yb)


def test_a_map_style_data_set_is_collated_into_arrays():
    loader = DataLoader(Squares(10), batch_size=4, shuffle=True, seed=3)
    batches = list(loader)
    assert [len(y) for _, y in batches] == [4, 4, 2]
    x, y = batches[0]
    assert x.shape == (4, 2, 3) and x.dtype == np.float32 and y.dtype == np.int64
    ids = np.concatenate([np.floor(x[:, 0, 0]) for x, _ in batches]).astype(int)
    assert sorted(ids.tolist()) == list(range(10))
    np.testing.assert_array_equal(np.concatenate([y for _, y in batches]), ids % 3)


def test_collate_fn_receives_the_examples_of_a_batch():
    loader = DataLoader(Squares(5), batch_size=2, collate_fn=lambda examples: [label for _, label in examples])
    assert list(loader) == [[0, 1], [2, 0], [1]]


def test_random_draws_depend_on_seed_epoch_and_index_only():
    a = run_epochs(DataLoader(Squares(12), 5, shuffle=True, seed=4), 2)
    b = run_epochs(DataLoader(Squares(12), 5, shuffle=False, seed=4), 2)
    noise = lambda epoch: {int(np.floor(v)): v - np.floor(v) for x, _ in epoch for v in x[:, 0, 0]}  # noqa: E731
    assert noise(a[0]) == noise(b[0]) and noise(a[1]) == noise(b[1])  # the order does not matter
    assert noise(a[0]) != noise(a[1])  # a new epoch draws anew
    assert noise(run_epochs(DataLoader(Squares(12), 5, seed=5), 1)[0]) != noise(b[0])


@pytest.mark.parametrize("worker_type", ["process", "thread"])
@pytest.mark.parametrize("workers", [1, 3])
def test_workers_give_the_batches_of_no_workers(workers, worker_type):
    expected = run_epochs(DataLoader(Squares(23), 4, shuffle=True, seed=7), 2)
    got = run_epochs(DataLoader(Squares(23), 4, shuffle=True, seed=7, num_workers=workers,
                                worker_type=worker_type, prefetch_factor=1), 2)
    assert_same_batches(got, expected)


@pytest.mark.parametrize("workers", [0, 2])
def test_resume_mid_epoch_with_random_examples(workers):
    full = DataLoader(Squares(30), 4, shuffle=True, seed=2, num_workers=workers)
    expected = run_epochs(full, 3)
    cut = DataLoader(Squares(30), 4, shuffle=True, seed=2, num_workers=workers)
    run_epochs(cut, 1)
    it = iter(cut)
    head = [tuple(a.copy() for a in next(it)) for _ in range(3)]
    state = cut.state_dict()
    it.close()
    resumed = DataLoader(Squares(30), 4, shuffle=True, seed=99, num_workers=workers)
    resumed.load_state_dict(state)
    rest = run_epochs(resumed, 2)
    assert_same_batches([head + rest[0], rest[1]], expected[1:])


@pytest.mark.parametrize("worker_type", ["process", "thread"])
@pytest.mark.parametrize("error", [ValueError, KeyError, OSError])
def test_an_error_in_a_worker_is_raised_with_its_type_and_message(worker_type, error):
    loader = DataLoader(Squares(20, fail_at=13, error=error), 4, num_workers=2, worker_type=worker_type)
    with pytest.raises(error, match="example 13 is broken"):
        list(loader)
    with pytest.raises(error):  # and again in the next epoch: the loader is left usable
        list(loader)


class Local(Exception):
    def __init__(self, a, b):  # cannot be rebuilt from a message
        super().__init__(f"{a} and {b}")


class RaisesLocal(Squares):
    def __getitem__(self, i):
        raise Local("this", "that")


def test_an_error_that_cannot_be_rebuilt_keeps_its_name_and_message():
    with pytest.raises(RuntimeError, match=r"Local: this and that"):
        list(DataLoader(RaisesLocal(4), 2, num_workers=1))


class Dies(Squares):
    def __getitem__(self, i):
        if i == 5:
            os._exit(3)
        return super().__getitem__(i)


def test_a_worker_that_dies_is_an_error_not_a_hang():
    with pytest.raises(RuntimeError, match=r"DataLoader worker 1 \(pid \d+\) exited unexpectedly with exit code 3"):
        list(DataLoader(Dies(12), 5, num_workers=2))


def test_workers_leave_when_an_epoch_is_abandoned():
    import multiprocessing

    loader = DataLoader(Squares(100), 2, num_workers=2)
    it = iter(loader)
    next(it)
    assert len(multiprocessing.active_children()) == 2
    it.close()
    assert multiprocessing.active_children() == []


@pytest.mark.parametrize("how", ["mid-epoch", "worker error"])
def test_the_interpreter_exits_promptly_with_workers_alive(tmp_path, how):
    script = tmp_path / "exit.py"
    script.write_text(f"""
import time
import numpy as np
from nntrain.data import DataLoader, Dataset

class Slow(Dataset):
    def __len__(self):
        return 1000
    def __getitem__(self, i):
        if {how == 'worker error'!r} and i == 7:
            raise ValueError("broken example")
        time.sleep(0.05)
        return np.zeros(3, np.float32), 0

batches = iter(DataLoader(Slow(), 4, num_workers=2))
next(batches)
if {how == 'worker error'!r}:
    for _ in batches:
        pass
print("leaving")
""")
    import subprocess
    import sys

    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    start = time.perf_counter()
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60, env=env)
    assert time.perf_counter() - start < 30
    if how == "worker error":
        assert done.returncode == 1 and "ValueError: broken example" in done.stderr
    else:
        assert done.returncode == 0 and "leaving" in done.stdout, done.stderr


def test_subsets_of_arrays_are_gathered_by_fancy_index():
    ds = dataset(20)
    part = Subset(Subset(ds, np.arange(20)[::-1]), [0, 2, 4, 6, 8])
    batches = list(DataLoader(part, 2))
    np.testing.assert_array_equal(np.concatenate([y for _, y in batches]), ds.y[[19, 17, 15, 13, 11]])
    assert batches[0][0].dtype == np.float32 and batches[0][0].flags.c_contiguous


def test_an_array_dataset_with_a_transform_goes_example_by_example():
    ds = ArrayDataset(np.arange(12, dtype=np.float32).reshape(6, 1, 2), np.arange(6) % 2, 2, transform=lambda x: x * 2)
    x, y = next(iter(DataLoader(ds, 6)))
    np.testing.assert_array_equal(x, ds.x * 2)
    assert ds[3][0].tolist() == [[12.0, 14.0]] and ds[3][1] == 1


@pytest.mark.parametrize("kwargs, match", [
    ({"num_workers": -1}, "num_workers must be a non-negative integer"),
    ({"worker_type": "fiber"}, "worker_type must be one of process, thread"),
    ({"prefetch_factor": 0}, "prefetch_factor must be a positive integer"),
])
def test_bad_worker_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DataLoader(dataset(), **kwargs)
