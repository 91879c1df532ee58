"""Initialisers: fixed values, distributions with the right scale, reproducible from one seed."""

import numpy as np
import pytest

from nntrain import nn
from nntrain.nn import init


def test_fixed_initialisers():
    w = nn.Parameter(np.ones((3, 4), np.float32))
    init.zeros_(w)
    assert not w.data.any()
    init.constant_(w, 0.25)
    assert (w.data == 0.25).all()


@pytest.mark.parametrize("fn,std", [
    (lambda w, r: init.xavier_uniform_(w, rng=r), np.sqrt(2 / (400 + 300))),
    (lambda w, r: init.xavier_normal_(w, rng=r), np.sqrt(2 / (400 + 300))),
    (lambda w, r: init.kaiming_uniform_(w, nonlinearity="relu", rng=r), np.sqrt(2 / 400)),
    (lambda w, r: init.kaiming_normal_(w, nonlinearity="relu", rng=r), np.sqrt(2 / 400)),
    (lambda w, r: init.normal_(w, 0.0, 0.3, rng=r), 0.3),
])
def test_scaled_initialisers_have_their_published_spread(fn, std):
    w = nn.Parameter(np.empty((300, 400), np.float32))
    fn(w, np.random.default_rng(0))
    assert abs(w.data.mean()) < 0.05 * std
    assert w.data.std() == pytest.approx(std, rel=0.02)


def test_one_seed_fixes_a_whole_model():
    def build(seed):
        r = np.random.default_rng(seed)
        m = nn.Sequential(nn.Linear(5, 4, rng=r), nn.ReLU(), nn.Linear(4, 2, rng=r))
        return init.initialize(m, "he", r)

    a, b, c = build(1), build(1), build(2)
    for (_, x), (_, y), (_, z) in zip(a.state_dict().items(), b.state_dict().items(), c.state_dict().items()):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a[0].weight.data, c[0].weight.data)
    assert not a[0].bias.data.any(), "schemes other than default start biases at zero"


def test_initialize_rejects_unknown_scheme():
    with pytest.raises(ValueError, match="unknown scheme 'lecun'"):
        init.initialize(nn.Linear(2, 2), "lecun")


def test_gain_table():
    assert init.calculate_gain("relu") == pytest.approx(np.sqrt(2))
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    with pytest.raises(ValueError):
        init.calculate_gain("swish")
