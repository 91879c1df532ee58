"""PyTorch as the oracle for every op, layer and loss added with the tape: forward values and the gradients
of every input and parameter agree to 1e-4 relative in float32 (relative to each tensor's largest entry);
LSTM and GRU weights move through state_dict in both directions."""

import numpy as np
import pytest

from nntrain import functional as F
from nntrain import nn
from nntrain._tensor import Tensor

torch = pytest.importorskip("torch")
tF = torch.nn.functional
pytestmark = pytest.mark.torch

RTOL = 1e-4


def assert_close(ours, theirs, what):
    ours = np.asarray(getattr(ours, "data", ours), np.float64)
    theirs = theirs.detach().double().numpy()
    assert ours.shape == theirs.shape, f"{what}: shape {ours.shape} vs PyTorch's {theirs.shape}"
    scale = float(np.abs(theirs).max()) if theirs.size else 0.0
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=RTOL * scale, err_msg=what)


def _flat(out):
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in _flat(o)]
    return [out]


def compare(ours_fn, torch_fn, arrays, rng, grad=None, params=()):
    """Runs both on the same float32 arrays (Tensors with gradients at the indices in ``grad``), backpropagates
    sum(out * R) through each floating output, and compares outputs, input gradients and parameter gradients
    (params: pairs (ours, theirs))."""
    grad = range(len(arrays)) if grad is None else grad
    ours_in = [Tensor(a.copy(), requires_grad=i in grad and a.dtype.kind == "f") if isinstance(a, np.ndarray) else a
               for i, a in enumerate(arrays)]
    theirs_in = [torch.tensor(a, requires_grad=i in grad and a.dtype.kind == "f") if isinstance(a, np.ndarray) else a
                 for i, a in enumerate(arrays)]
    ours_out = [o for o in _flat(ours_fn(*ours_in)) if o.dtype.kind == "f"]
    theirs_out = [o for o in _flat(torch_fn(*theirs_in)) if o.dtype.is_floating_point]
    assert len(ours_out) == len(theirs_out)
    weights = [rng.standard_normal(o.shape).astype(np.float32) for o in ours_out]
    for k, (o, t) in enumerate(zip(ours_out, theirs_out)):
        assert_close(o, t, f"output {k}")
    sum((o * w).sum() for o, w in zip(ours_out, weights)).backward()
    sum((t * torch.tensor(w)).sum() for t, w in zip(theirs_out, weights)).backward()
    for i in grad:
        if isinstance(arrays[i], np.ndarray) and arrays[i].dtype.kind == "f":
            assert_close(ours_in[i].grad, theirs_in[i].grad, f"gradient of input {i}")
    for name, (p, q) in params:
        assert_close(p.grad, q.grad, f"gradient of {name}")


def f32(rng, *shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def copy_to_torch(ours, theirs):
    theirs.load_state_dict({k: torch.tensor(np.array(v)) for k, v in ours.state_dict().items()})


def param_pairs(ours, theirs):
    mine = dict(ours.named_parameters())
    return [(name, (mine[name], q)) for name, q in theirs.named_parameters()]


# ---- losses ---------------------------------------------------------------------------------------------------------

CE_CASES = [((8, 5), (8,)), ((3, 4, 6), (3, 6)), ((2, 3, 4, 5), (2, 4, 5)), ((6,), ())]


@pytest.mark.parametrize("shape,target_shape", CE_CASES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("options", [{}, {"weight": True}, {"ignore_index": 1}, {"label_smoothing": 0.2},
                                     {"weight": True, "ignore_index": 2, "label_smoothing": 0.3}])
def test_cross_entropy_with_class_indices(rng, shape, target_shape, reduction, options):
    classes = shape[0] if len(shape) == 1 else shape[1]
    y = rng.integers(0, classes, target_shape)
    w = rng.uniform(0.5, 2, classes).astype(np.float32) if options.get("weight") else None
    kw = {k: v for k, v in options.items() if k != "weight"}
    compare(lambda x: F.cross_entropy(x, y, w, reduction=reduction, **kw),
            lambda x: tF.cross_entropy(x, torch.tensor(y), None if w is None else torch.tensor(w), reduction=reduction,
                                       **kw), [f32(rng, *shape, scale=3)], rng)


@pytest.mark.parametrize("shape", [(5, 4), (2, 3, 4), (4,)])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_with_probabilities_and_their_gradient(rng, shape, reduction):
    axis = 0 if len(shape) == 1 else 1
    t = np.moveaxis(rng.dirichlet(np.ones(shape[axis]), int(np.prod(shape)) // shape[axis])
                    .reshape(tuple(np.delete(shape, axis)) + (shape[axis],)), -1, axis).astype(np.float32)
    w = rng.uniform(0.5, 2, shape[axis]).astype(np.float32)
    compare(lambda x, t: F.cross_entropy(x, t, w, reduction=reduction, label_smoothing=0.1),
            lambda x, t: tF.cross_entropy(x, t, torch.tensor(w), reduction=reduction, label_smoothing=0.1),
            [f32(rng, *shape), np.ascontiguousarray(t)], rng)


@pytest.mark.parametrize("shape,target_shape", CE_CASES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_nll_loss(rng, shape, target_shape, reduction):
    classes = shape[0] if len(shape) == 1 else shape[1]
    y = rng.integers(0, classes, target_shape)
    w = rng.uniform(0.5, 2, classes).astype(np.float32)
    compare(lambda x: F.nll_loss(x, y, w, ignore_index=0, reduction=reduction),
            lambda x: tF.nll_loss(x, torch.tensor(y), torch.tensor(w), ignore_index=0, reduction=reduction),
            [f32(rng, *shape)], rng)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("shape", [(6,), (4, 5), (2, 3, 4)])
def test_elementwise_losses(rng, reduction, shape):
    x, y = f32(rng, *shape, scale=2), f32(rng, *shape)
    compare(lambda a, b: F.mse_loss(a, b, reduction), lambda a, b: tF.mse_loss(a, b, reduction=reduction), [x, y], rng)
    compare(lambda a, b: F.l1_loss(a, b, reduction), lambda a, b: tF.l1_loss(a, b, reduction=reduction), [x, y], rng)
    for beta in (0.5, 1.0, 0.0):
        compare(lambda a, b: F.smooth_l1_loss(a, b, reduction, beta),
                lambda a, b: tF.smooth_l1_loss(a, b, reduction=reduction, beta=beta), [x, y], rng)
    p = rng.uniform(0, 1, shape).astype(np.float32)
    w = rng.uniform(0.5, 2, shape[-1:]).astype(np.float32)
    pw = rng.uniform(0.5, 3, shape[-1:]).astype(np.float32)
    compare(lambda a, b: F.binary_cross_entropy_with_logits(a, b, w, reduction, pw),
            lambda a, b: tF.binary_cross_entropy_with_logits(a, b, torch.tensor(w), reduction=reduction,
                                                              pos_weight=torch.tensor(pw)), [x * 3, p], rng)


def test_loss_modules_and_their_state_dicts(rng):
    w = rng.uniform(0.5, 2, 4).astype(np.float32)
    pairs = [
        (nn.CrossEntropyLoss(w, ignore_index=1, reduction="sum", label_smoothing=0.1),
         torch.nn.CrossEntropyLoss(torch.tensor(w), ignore_index=1, reduction="sum", label_smoothing=0.1), "labels"),
        (nn.NLLLoss(w, reduction="none"), torch.nn.NLLLoss(torch.tensor(w), reduction="none"), "labels"),
        (nn.BCEWithLogitsLoss(pos_weight=w), torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(w)), "probs"),
        (nn.L1Loss(reduction="sum"), torch.nn.L1Loss(reduction="sum"), "values"),
        (nn.SmoothL1Loss(beta=0.3), torch.nn.SmoothL1Loss(beta=0.3), "values"),
        (nn.MSELoss(reduction="none"), torch.nn.MSELoss(reduction="none"), "values"),
    ]
    for ours, theirs, kind in pairs:
        assert list(ours.state_dict()) == list(theirs.state_dict()), type(ours).__name__
        x = f32(rng, 6, 4)
        y = {"labels": rng.integers(0, 4, 6), "probs": rng.uniform(0, 1, (6, 4)).astype(np.float32),
             "values": f32(rng, 6, 4)}[kind]
        theirs_y = torch.tensor(y)
        compare(lambda a: ours(a, y), lambda a: theirs(a, theirs_y), [x], rng)


# ---- convolution and pooling -----------------------------------------------------------------------------------

@pytest.mark.parametrize("cfg", [dict(groups=2, padding=1), dict(groups=4, padding="same"),
                                 dict(padding="same", dilation=2), dict(padding="valid", stride=2),
                                 dict(groups=2, padding=(1, 0), stride=(2, 1), dilation=(1, 2))])
def test_conv2d(rng, cfg):
    groups = cfg.get("groups", 1)
    k = (2, 3) if cfg.get("padding") == "same" else (3, 3)
    x, w, b = f32(rng, 2, 4, 7, 8), f32(rng, 8, 4 // groups, *k), f32(rng, 8)
    compare(lambda x, w, b: F.conv2d(x, w, b, **cfg), lambda x, w, b: tF.conv2d(x, w, b, **cfg), [x, w, b], rng)


@pytest.mark.parametrize("cfg", [dict(), dict(groups=2, padding=2, stride=2), dict(padding="same", dilation=3),
                                 dict(groups=4, padding="same")])
def test_conv1d(rng, cfg):
    groups = cfg.get("groups", 1)
    x, w, b = f32(rng, 3, 4, 12), f32(rng, 8, 4 // groups, 4), f32(rng, 8)
    compare(lambda x, w, b: F.conv1d(x, w, b, **cfg), lambda x, w, b: tF.conv1d(x, w, b, **cfg), [x, w, b], rng)


@pytest.mark.parametrize("cfg", [dict(kernel_size=2, ceil_mode=True),
                                 dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
                                 dict(kernel_size=3, stride=1, padding=1, dilation=2),
                                 dict(kernel_size=(2, 3), stride=(3, 2), padding=1, dilation=(2, 1), ceil_mode=True)])
def test_max_pools(rng, cfg):
    x = f32(rng, 2, 3, 9, 10)
    compare(lambda x: F.max_pool2d(x, **cfg), lambda x: tF.max_pool2d(x, **cfg), [x], rng)
    _, ours_idx = F.max_pool2d(x, return_indices=True, **cfg)
    _, theirs_idx = tF.max_pool2d(torch.tensor(x), return_indices=True, **cfg)
    np.testing.assert_array_equal(ours_idx, theirs_idx.numpy())
    one_d = {k: (v[1] if isinstance(v, tuple) else v) for k, v in cfg.items()}
    compare(lambda x: F.max_pool1d(x, **one_d), lambda x: tF.max_pool1d(x, **one_d), [x[:, :, 0]], rng)


@pytest.mark.parametrize("cfg", [dict(kernel_size=2, ceil_mode=True),
                                 dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
                                 dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
                                 dict(kernel_size=(3, 2), stride=(2, 3), padding=(1, 1), ceil_mode=True)])
def test_avg_pools(rng, cfg):
    x = f32(rng, 2, 3, 9, 10)
    compare(lambda x: F.avg_pool2d(x, **cfg), lambda x: tF.avg_pool2d(x, **cfg), [x], rng)
    one_d = {k: (v[1] if isinstance(v, tuple) else v) for k, v in cfg.items()}
    compare(lambda x: F.avg_pool1d(x, **one_d), lambda x: tF.avg_pool1d(x, **one_d), [x[:, :, 0]], rng)


@pytest.mark.parametrize("size", [1, 3, (4, 3), (None, 2), (5, 7), (9, 10)])
def test_adaptive_avg_pool2d(rng, size):
    compare(lambda x: F.adaptive_avg_pool2d(x, size), lambda x: tF.adaptive_avg_pool2d(x, size),
            [f32(rng, 2, 3, 9, 10)], rng)


def test_layer_norm_and_embedding(rng):
    x, w, b = f32(rng, 4, 3, 5, scale=2), f32(rng, 3, 5), f32(rng, 3, 5)
    compare(lambda x, w, b: F.layer_norm(x, (3, 5), w, b), lambda x, w, b: tF.layer_norm(x, (3, 5), w, b), [x, w, b],
            rng)
    compare(lambda x: F.layer_norm(x, 5, eps=1e-3), lambda x: tF.layer_norm(x, (5,), eps=1e-3), [x], rng)
    idx = rng.integers(0, 7, (4, 6))
    compare(lambda w: F.embedding(idx, w, padding_idx=2), lambda w: tF.embedding(torch.tensor(idx), w, padding_idx=2),
            [f32(rng, 7, 3)], rng)


# ---- layers, with weights copied through state_dict -------------------------------------------------------------

LAYER_PAIRS = {
    "Conv1d": (lambda: nn.Conv1d(4, 6, 3, stride=2, padding=1, groups=2),
               lambda: torch.nn.Conv1d(4, 6, 3, 2, 1, groups=2), (2, 4, 11)),
    "Conv2d": (lambda: nn.Conv2d(4, 8, (2, 3), padding="same", groups=4),
               lambda: torch.nn.Conv2d(4, 8, (2, 3), padding="same", groups=4), (2, 4, 6, 7)),
    "LayerNorm": (lambda: nn.LayerNorm([3, 4]), lambda: torch.nn.LayerNorm([3, 4]), (5, 3, 4)),
    "MaxPool1d": (lambda: nn.MaxPool1d(3, 2, 1, ceil_mode=True), lambda: torch.nn.MaxPool1d(3, 2, 1, ceil_mode=True),
                  (2, 3, 10)),
    "AvgPool1d": (lambda: nn.AvgPool1d(3, 2, 1, ceil_mode=True), lambda: torch.nn.AvgPool1d(3, 2, 1, ceil_mode=True),
                  (2, 3, 10)),
    "AdaptiveAvgPool2d": (lambda: nn.AdaptiveAvgPool2d((2, 3)), lambda: torch.nn.AdaptiveAvgPool2d((2, 3)),
                          (2, 3, 7, 8)),
    "Identity": (lambda: nn.Identity(), lambda: torch.nn.Identity(), (3, 4)),
    "LSTMCell": (lambda: nn.LSTMCell(5, 4), lambda: torch.nn.LSTMCell(5, 4), (3, 5)),
    "GRUCell": (lambda: nn.GRUCell(5, 4), lambda: torch.nn.GRUCell(5, 4), (3, 5)),
    "LSTM": (lambda: nn.LSTM(5, 4, num_layers=2), lambda: torch.nn.LSTM(5, 4, num_layers=2), (6, 3, 5)),
    "LSTM-batch-first": (lambda: nn.LSTM(5, 4, batch_first=True, bias=False),
                         lambda: torch.nn.LSTM(5, 4, batch_first=True, bias=False), (3, 6, 5)),
    "GRU": (lambda: nn.GRU(5, 4, num_layers=3), lambda: torch.nn.GRU(5, 4, num_layers=3), (6, 3, 5)),
    "GRU-unbatched": (lambda: nn.GRU(5, 4, num_layers=2), lambda: torch.nn.GRU(5, 4, num_layers=2), (7, 5)),
}


@pytest.mark.parametrize("name", list(LAYER_PAIRS))
def test_layers_with_weights_copied_from_nntrain_to_pytorch(rng, name):
    make_ours, make_theirs, shape = LAYER_PAIRS[name]
    ours, theirs = make_ours(), make_theirs()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    copy_to_torch(ours, theirs)
    compare(ours, theirs, [f32(rng, *shape)], rng, params=param_pairs(ours, theirs))


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_recurrent_weights_from_pytorch_with_initial_states(rng, kind):
    torch.manual_seed(0)
    theirs = getattr(torch.nn, kind)(3, 6, num_layers=2, batch_first=True)
    ours = getattr(nn, kind)(3, 6, num_layers=2, batch_first=True)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x, h0, c0 = f32(rng, 4, 5, 3), f32(rng, 2, 4, 6), f32(rng, 2, 4, 6)
    if kind == "LSTM":
        compare(lambda x, h, c: ours(x, (h, c)), lambda x, h, c: theirs(x, (h, c)), [x, h0, c0], rng,
                params=param_pairs(ours, theirs))
    else:
        compare(lambda x, h: ours(x, h), lambda x, h: theirs(x, h), [x, h0], rng, params=param_pairs(ours, theirs))


def test_embedding_layer(rng):
    ours, theirs = nn.Embedding(9, 4, padding_idx=3), torch.nn.Embedding(9, 4, padding_idx=3)
    copy_to_torch(ours, theirs)
    idx = rng.integers(0, 9, (5, 7))
    compare(lambda: ours(Tensor(idx)), lambda: theirs(torch.tensor(idx)), [], rng, params=param_pairs(ours, theirs))
