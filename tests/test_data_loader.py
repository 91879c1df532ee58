"""nntrain.data.loader: batching, exact resume, split, normalisation and one-hot."""

import numpy as np
import pytest

from nntrain.data import DataLoader, Dataset, DataSplits, Normalizer, normalise, one_hot, split


def dataset(n=10, classes=3):
    x = np.arange(n * 2 * 2, dtype=np.float32).reshape(n, 1, 2, 2)
    return Dataset(x, np.arange(n) % classes, classes, "toy")


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
    train = Dataset(x, np.zeros(400, int), 1)
    test = Dataset(rng.normal(size=(50, 3, 4, 4)), np.zeros(50, int), 1)
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
    out = Normalizer.fit(Dataset(x, np.zeros(6, int), 1))(Dataset(x, np.zeros(6, int), 1))
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
        Dataset(np.float32(1.0), np.zeros(1, np.int64), 2)
    with pytest.raises(DataError, match=r"y must have shape \(N,\), got \(\)"):
        Dataset(np.zeros((1, 3), np.float32), np.int64(0), 2)
