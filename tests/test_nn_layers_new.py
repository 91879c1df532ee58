"""The layers added with the tape: each one's forward against an oracle, its gradients (input and every
parameter) against central differences, its PyTorch names, defaults and state-dict keys, its errors."""

import math

import numpy as np
import pytest

import nntrain
from nntrain import nn
from nntrain._tensor import Tensor

from reference import rnn as ref_rnn
from reference.gradcheck import check_gradients

LAYERS = {  # name -> (layer factory, input factory)
    "Conv1d": (lambda r: nn.Conv1d(4, 6, 3, stride=2, padding=1, rng=r), lambda r: r.standard_normal((2, 4, 9))),
    "Conv1d-same-groups": (lambda r: nn.Conv1d(4, 4, 4, padding="same", groups=2, rng=r),
                           lambda r: r.standard_normal((2, 4, 7))),
    "Conv2d-depthwise": (lambda r: nn.Conv2d(3, 6, 3, padding=1, groups=3, rng=r),
                         lambda r: r.standard_normal((2, 3, 5, 6))),
    "Conv2d-same": (lambda r: nn.Conv2d(2, 3, (2, 3), padding="same", dilation=(2, 1), rng=r),
                    lambda r: r.standard_normal((2, 2, 5, 6))),
    "MaxPool1d": (lambda r: nn.MaxPool1d(3, 2, 1, ceil_mode=True), lambda r: r.standard_normal((2, 3, 10))),
    "AvgPool1d": (lambda r: nn.AvgPool1d(2, ceil_mode=True), lambda r: r.standard_normal((2, 3, 9))),
    "MaxPool2d-dilated": (lambda r: nn.MaxPool2d(2, 1, dilation=2), lambda r: r.standard_normal((2, 2, 6, 5))),
    "AvgPool2d-ceil": (lambda r: nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False),
                       lambda r: r.standard_normal((2, 2, 6, 7))),
    "AdaptiveAvgPool2d": (lambda r: nn.AdaptiveAvgPool2d((3, None)), lambda r: r.standard_normal((2, 2, 7, 4))),
    "LayerNorm": (lambda r: nn.LayerNorm((3, 4)), lambda r: r.standard_normal((2, 3, 4))),
    "LayerNorm-nobias": (lambda r: nn.LayerNorm(5, bias=False), lambda r: r.standard_normal((4, 5))),
    "Identity": (lambda r: nn.Identity(7, scale=2), lambda r: r.standard_normal((2, 3))),
    "LSTMCell": (lambda r: nn.LSTMCell(3, 4, rng=r), lambda r: r.standard_normal((2, 3))),
    "GRUCell": (lambda r: nn.GRUCell(3, 4, rng=r), lambda r: r.standard_normal((2, 3))),
    "LSTM": (lambda r: nn.LSTM(3, 4, num_layers=2, rng=r), lambda r: r.standard_normal((4, 2, 3))),
    "LSTM-batch-first": (lambda r: nn.LSTM(3, 2, batch_first=True, bias=False, rng=r),
                         lambda r: r.standard_normal((2, 5, 3))),
    "GRU": (lambda r: nn.GRU(3, 4, num_layers=2, rng=r), lambda r: r.standard_normal((4, 2, 3))),
    "GRU-unbatched": (lambda r: nn.GRU(3, 4, rng=r), lambda r: r.standard_normal((5, 3))),
}


@pytest.mark.parametrize("name", list(LAYERS))
def test_layer_gradients_match_central_differences(rng, name):
    make_layer, make_input = LAYERS[name]
    layer = make_layer(rng).to(np.float64)
    # perturb the parameters away from their initial values (LayerNorm starts at 1 and 0)
    with nntrain.no_grad():
        for p in layer.parameters():
            p.data[...] += rng.standard_normal(p.shape) * 0.1
    check_gradients(layer, [make_input(rng)], rng, params=layer.parameters())


def test_embedding_gradient(rng):
    layer = nn.Embedding(7, 3, padding_idx=0, rng=rng).to(np.float64)
    idx = Tensor(rng.integers(1, 7, (4, 5)))  # (the padding row, never trained, is tested in the functional tests)
    check_gradients(lambda: layer(idx), [], rng, params=layer.parameters())


def test_a_cell_used_at_every_step_gets_every_steps_contribution(rng):
    cell = nn.GRUCell(3, 4, rng=rng).to(np.float64)
    xs = rng.standard_normal((5, 2, 3))

    def unrolled(xs):
        h = None
        for t in range(xs.shape[0]):
            h = cell(xs[t], h)
        return h

    check_gradients(unrolled, [xs], rng, params=cell.parameters())


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
@pytest.mark.parametrize("num_layers", [1, 3])
def test_recurrent_layers_match_the_numpy_equations(rng, kind, num_layers):
    layer = getattr(nn, kind)(3, 5, num_layers=num_layers, rng=rng).to(np.float64)
    x = rng.standard_normal((6, 2, 3))
    weights = [tuple(getattr(layer, f"{k}_l{i}").data for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))
               for i in range(num_layers)]
    out, state = layer(x)
    want_out, want_state = getattr(ref_rnn, kind.lower())(x, weights, 5)
    np.testing.assert_allclose(out, want_out, rtol=1e-12, atol=1e-14)
    if kind == "LSTM":
        np.testing.assert_allclose(state[0], want_state[0], rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(state[1], want_state[1], rtol=1e-12, atol=1e-14)
    else:
        np.testing.assert_allclose(state, want_state, rtol=1e-12, atol=1e-14)


def test_recurrent_shapes_initial_states_and_batch_first(rng):
    lstm = nn.LSTM(3, 4, num_layers=2, batch_first=True, rng=rng)
    x = Tensor(rng.standard_normal((2, 5, 3)).astype(np.float32))
    h0 = Tensor(rng.standard_normal((2, 2, 4)).astype(np.float32), requires_grad=True)
    c0 = Tensor(rng.standard_normal((2, 2, 4)).astype(np.float32), requires_grad=True)
    out, (h, c) = lstm(x, (h0, c0))
    assert out.shape == (2, 5, 4) and h.shape == c.shape == (2, 2, 4)
    np.testing.assert_allclose(out.data[:, -1], h.data[-1], rtol=1e-6)
    (out.sum() + c.sum()).backward()
    assert h0.grad.shape == (2, 2, 4) and np.abs(h0.grad).sum() > 0 and np.abs(c0.grad).sum() > 0
    # the same sequence time-major gives the same numbers
    lstm.batch_first = False
    out_t, _ = lstm(x.transpose(0, 1), (h0, c0))
    np.testing.assert_allclose(out_t.data.transpose(1, 0, 2), out.data, rtol=1e-6)
    # arrays in, arrays out (the explicit API), unbatched input
    gru = nn.GRU(3, 4, rng=rng)
    out, h = gru(rng.standard_normal((5, 3)).astype(np.float32))
    assert isinstance(out, np.ndarray) and out.shape == (5, 4) and h.shape == (1, 4)
    h1, c1 = nn.LSTMCell(3, 4, rng=rng)(np.zeros(3, np.float32))
    assert h1.shape == c1.shape == (4,)


def test_recurrent_state_dict_keys_and_init_bounds(rng):
    lstm = nn.LSTM(3, 16, num_layers=2, rng=rng)
    assert list(lstm.state_dict()) == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
                                       "weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1"]
    assert lstm.weight_ih_l0.shape == (64, 3) and lstm.weight_hh_l1.shape == (64, 16)
    assert nn.GRU(3, 16).weight_ih_l0.shape == (48, 3)
    assert list(nn.GRUCell(2, 3, bias=False).state_dict()) == ["weight_ih", "weight_hh"]
    bound = 1 / math.sqrt(16)
    for p in lstm.parameters():
        assert np.abs(p.data).max() <= bound and np.abs(p.data).max() > 0.8 * bound
    assert repr(nn.LSTM(3, 4, num_layers=2, batch_first=True)) == "LSTM(3, 4, num_layers=2, batch_first=True)"


def test_recurrent_dropout_between_layers_only_while_training(rng):
    lstm = nn.LSTM(3, 4, num_layers=2, dropout=0.5, rng=rng)
    x = rng.standard_normal((4, 2, 3)).astype(np.float32)
    a, b = lstm(x)[0], lstm(x)[0]
    assert not np.array_equal(a, b)
    lstm.eval()
    np.testing.assert_array_equal(lstm(x)[0], lstm(x)[0])


def test_recurrent_errors(rng):
    with pytest.raises(ValueError, match=r"LSTM\(3, 4\): expected input \(T, N, 3\) or \(T, 3\), got \(2, 5, 2\)"):
        nn.LSTM(3, 4)(np.zeros((2, 5, 2), np.float32))
    with pytest.raises(ValueError, match=r"GRU: h_0 must be \(2, 5, 4\), got \(1, 5, 4\)"):
        nn.GRU(3, 4, num_layers=2)(np.zeros((2, 5, 3), np.float32), np.zeros((1, 5, 4), np.float32))
    with pytest.raises(ValueError, match="bidirectional=True is not supported"):
        nn.LSTM(3, 4, bidirectional=True)
    with pytest.raises(ValueError, match=r"LSTMCell: c must be \(2, 4\), got \(2, 5\)"):
        nn.LSTMCell(3, 4)(np.zeros((2, 3), np.float32), (np.zeros((2, 4), np.float32), np.zeros((2, 5), np.float32)))


# ---- the other new layers ----------------------------------------------------------------------------------------

def test_conv_layers_follow_pytorch(rng):
    conv = nn.Conv1d(4, 6, 3, groups=2, rng=rng)
    assert conv.weight.shape == (6, 2, 3) and list(conv.state_dict()) == ["weight", "bias"]
    bound = 1 / math.sqrt(2 * 3)  # fan_in = in_channels / groups * kernel
    assert np.abs(conv.weight.data).max() <= bound and np.abs(conv.bias.data).max() <= bound
    assert repr(conv) == "Conv1d(4, 6, kernel_size=(3,), stride=(1,), groups=2, bias=True)"
    same = nn.Conv2d(2, 4, 4, padding="same", rng=rng)
    assert same(np.zeros((1, 2, 5, 7), np.float32)).shape == (1, 4, 5, 7)
    assert same.output_shape((1, 2, 5, 7)) == (1, 4, 5, 7)
    assert "padding='same'" in repr(same)
    with pytest.raises(ValueError, match="Conv2d: padding='same' is not supported for strided convolutions"):
        nn.Conv2d(2, 4, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="Conv1d: groups=3 must divide in_channels=4 and out_channels=6"):
        nn.Conv1d(4, 6, 3, groups=3)
    with pytest.raises(ValueError, match=r"Conv1d\(4, 6\): expected input \(N, 4, L\), got \(2, 3, 5\)"):
        conv(np.zeros((2, 3, 5), np.float32))


def test_layer_norm_and_embedding_layers(rng):
    ln = nn.LayerNorm([2, 3], eps=1e-3)
    assert list(ln.state_dict()) == ["weight", "bias"] and ln.weight.shape == (2, 3)
    assert np.all(ln.weight.data == 1) and np.all(ln.bias.data == 0)
    assert repr(ln) == "LayerNorm((2, 3), eps=0.001, elementwise_affine=True)"
    assert nn.LayerNorm(4, elementwise_affine=False).parameters() == []
    emb = nn.Embedding(10, 3, padding_idx=-1, rng=rng)
    assert emb.padding_idx == 9 and np.all(emb.weight.data[9] == 0)
    assert emb(np.array([[1, 2]])).shape == (1, 2, 3)
    frozen = nn.Embedding.from_pretrained(np.eye(3, dtype=np.float32))
    assert not frozen.weight.requires_grad and np.array_equal(frozen(np.array([2])), [[0, 0, 1]])
    assert repr(emb) == "Embedding(10, 3, padding_idx=9)"


def test_pool_layers_follow_pytorch():
    pool = nn.MaxPool2d(3, ceil_mode=True, return_indices=True)
    out, idx = pool(np.zeros((1, 1, 7, 7), np.float32))
    assert out.shape == idx.shape == (1, 1, 3, 3)
    assert nn.AvgPool1d(3).stride == 3 and nn.MaxPool1d((2,), 1).kernel_size == 2
    assert nn.AdaptiveAvgPool2d(1)(np.ones((2, 3, 5, 4), np.float32)).shape == (2, 3, 1, 1)


def test_identity_module_list_and_module_dict(rng):
    x = rng.standard_normal((2, 3))
    assert nn.Identity()(x) is x
    layers = nn.ModuleList([nn.Linear(3, 3, rng=rng), nn.ReLU()])
    layers.append(nn.Linear(3, 2, rng=rng))
    layers.insert(1, nn.Tanh())
    assert [type(m).__name__ for m in layers] == ["Linear", "Tanh", "ReLU", "Linear"]
    assert list(layers.state_dict()) == ["0.weight", "0.bias", "3.weight", "3.bias"]
    del layers[1]
    assert len(layers) == 3 and isinstance(layers[-1], nn.Linear) and isinstance(layers[1:], nn.ModuleList)
    with pytest.raises(TypeError, match="ModuleList: the appended value is a int, not a Module"):
        layers.append(3)
    with pytest.raises(IndexError, match="ModuleList: index 5 is out of range for 3 modules"):
        layers[5]

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = nn.ModuleList(nn.Linear(3, 3, rng=rng) for _ in range(2))
            self.heads = nn.ModuleDict({"a": nn.Linear(3, 1, rng=rng), "b": nn.Linear(3, 2, rng=rng)})

        def forward(self, x, head):
            for block in self.blocks:
                x = block(x).tanh()
            return self.heads[head](x)

    net = Net().to(np.float64)
    assert "heads.b.weight" in net.state_dict() and "blocks.1.bias" in net.state_dict()
    assert list(net.heads) == ["a", "b"] and "a" in net.heads and len(net.heads) == 2
    check_gradients(lambda x: net(x, "b"), [x], rng, params=net.parameters())
    net.heads.pop("a")
    assert list(net.heads.keys()) == ["b"]
    with pytest.raises(KeyError, match="keys must be non-empty strings without '.'"):
        net.heads["x.y"] = nn.ReLU()
