"""BatchNorm + ReLU + 2x2 max-pool fused (cpp/batch_norm.cpp): against the three ops run one after another,
under every instruction set; central differences in float64; thread-count invariance; bad arguments; and
Sequential running it at the end of a CNN stage while training."""

import numpy as np
import pytest

import nntrain
from nntrain import _core, functional as F, nn

from conftest import num_threads
from reference.numgrad import check_backward

pytestmark = pytest.mark.usefixtures("isa")

# (N, C, H, W): even and odd sides (a last row or column no window takes), the smallest image, a batch of
# one, the cnn preset's first stage, and for AVX-512's blocks of 16 windows: rows of 7 windows two to a
# block with a last block of one row, and rows of 17 windows (a block of 16 and one of 1)
SHAPES = [(4, 3, 6, 8), (5, 2, 7, 9), (3, 2, 2, 3), (1, 4, 5, 4), (64, 32, 28, 28), (3, 2, 11, 14), (2, 3, 5, 34)]


def args_of(rng, shape, dtype, affine=True):
    c = shape[1]
    x = (rng.standard_normal(shape) * 2 + 0.5).astype(dtype)
    weight = rng.standard_normal(c).astype(dtype) if affine else None
    bias = rng.standard_normal(c).astype(dtype) if affine else None
    return x, weight, bias


def unfused_forward(x, weight, bias, running, training):
    rm, rv = running if running else (None, None)
    y, mean, invstd = _core.batch_norm_forward(x, rm, rv, weight, bias, training, 0.1, 1e-5, True)
    out, indices = _core.max_pool2d_forward(y, (2, 2), (2, 2))
    return y, out, indices, mean, invstd


def flat_index(window, width):
    """The unfused max-pool's indices (flat in the plane) of the fused op's window positions."""
    oh, ow = np.meshgrid(np.arange(window.shape[2]), np.arange(window.shape[3]), indexing="ij")
    return (2 * oh + window // 2) * width + 2 * ow + window % 2


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("training", [True, False])
def test_forward_is_the_three_ops_bit_for_bit(rng, shape, dtype, training):
    x, weight, bias = args_of(rng, shape, dtype)
    c = shape[1]
    running = (rng.standard_normal(c).astype(dtype), rng.uniform(0.5, 2, c).astype(dtype))
    fused_running = tuple(a.copy() for a in running)
    out, window, mean, invstd = _core.batch_norm_relu_max_pool_forward(x, *fused_running, weight, bias, training)
    _, want, indices, want_mean, want_invstd = unfused_forward(x, weight, bias, running, training)
    assert out.shape == want.shape == (shape[0], c, shape[2] // 2, shape[3] // 2)
    assert window.dtype == np.uint8 and window.shape == out.shape
    np.testing.assert_array_equal(out, want)
    np.testing.assert_array_equal(flat_index(window.astype(np.int64), shape[3]), indices)
    np.testing.assert_array_equal(mean, want_mean)
    np.testing.assert_array_equal(invstd, want_invstd)
    for got, expected in zip(fused_running, running):
        np.testing.assert_array_equal(got, expected)


def test_ties_and_nan_pick_what_max_pool_picks(rng):
    x = rng.standard_normal((2, 3, 6, 6)).astype(np.float32)
    x[0, 0] = 1.0  # a constant plane: every window is a tie
    x[1, 1, :2, :2] = -5.0  # rectified to zeros: a tie of zeros
    x[1, 2, 2, 3] = np.nan
    x[1, 2, 3, 2] = np.nan  # two NaNs in one window: the first in reading order wins
    x[0, 2, 5, 5] = np.nan
    weight, bias = np.ones(3, np.float32), np.zeros(3, np.float32)
    running = (np.zeros(3, np.float32), np.ones(3, np.float32))  # evaluation: x itself, rectified and pooled
    out, window, _, _ = _core.batch_norm_relu_max_pool_forward(x, *running, weight, bias, False)
    _, want, indices, _, _ = unfused_forward(x, weight, bias, running, False)
    np.testing.assert_array_equal(out, want)  # NaN in the same places
    np.testing.assert_array_equal(flat_index(window.astype(np.int64), 6), indices)
    assert np.isnan(out[1, 2, 1, 1]) and window[1, 2, 1, 1] == 1
    assert (window[0, 0] == 0).all()


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("affine", [True, False])
def test_backward_matches_the_three_ops_to_rounding(rng, shape, training, affine):
    x, weight, bias = args_of(rng, shape, np.float32, affine)
    c = shape[1]
    running = (rng.standard_normal(c).astype(np.float32), rng.uniform(0.5, 2, c).astype(np.float32))
    out, window, mean, invstd = _core.batch_norm_relu_max_pool_forward(x, *running, weight, bias, training)
    y, _, indices, _, _ = unfused_forward(x, weight, bias, tuple(a.copy() for a in running), training)
    dout = rng.standard_normal(out.shape).astype(np.float32)
    got = F.batch_norm_relu_max_pool2d_backward(dout, out, window, x, weight, mean, invstd, training)
    dy = np.zeros_like(x)
    _core.max_pool2d_backward(dout, indices, dy, (2, 2), (2, 2))
    want = F.batch_norm_backward(dy, x, weight, mean, invstd, training, relu_out=y)
    for name, g, w in zip(("dx", "dweight", "dbias"), got, want):
        if w is None:
            assert g is None, name
            continue
        scale = max(float(np.abs(w).max()), 1e-30)
        np.testing.assert_allclose(g, w, rtol=0, atol=2e-6 * scale, err_msg=name)


def test_backward_writes_or_adds_as_asked(rng):
    x, weight, bias = args_of(rng, (6, 3, 8, 7), np.float32)
    out, window, mean, invstd = _core.batch_norm_relu_max_pool_forward(x, None, None, weight, bias, True)
    dout = rng.standard_normal(out.shape).astype(np.float32)
    fresh = F.batch_norm_relu_max_pool2d_backward(dout, out, window, x, weight, mean, invstd)
    # written: the buffers may hold anything (NaN here) and are never read
    garbage = [np.full(a.shape, np.nan, np.float32) for a in fresh]
    _core.batch_norm_relu_max_pool_backward(dout, out, window, x, weight, mean, invstd, True, *garbage,
                                            accumulate=False)
    for g, f in zip(garbage, fresh):
        np.testing.assert_array_equal(g, f)
    # given buffers are added to
    start = [rng.standard_normal(a.shape).astype(np.float32) for a in fresh]
    added = F.batch_norm_relu_max_pool2d_backward(dout, out, window, x, weight, mean, invstd, dx=start[0].copy(),
                                                  dweight=start[1].copy(), dbias=start[2].copy())
    for a, s, f in zip(added, start, fresh):
        np.testing.assert_allclose(a, s + f, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("shape", [(3, 2, 5, 4), (2, 3, 4, 7)])
@pytest.mark.parametrize("training", [True, False])
def test_backward_matches_central_differences(rng, shape, training):
    c = shape[1]
    x = rng.standard_normal(shape)
    weight, bias = rng.standard_normal(c), rng.standard_normal(c)
    running = (rng.standard_normal(c), rng.uniform(0.5, 2, c))
    out, window, mean, invstd = _core.batch_norm_relu_max_pool_forward(x, *(a.copy() for a in running), weight, bias,
                                                                       training)
    dout = rng.standard_normal(out.shape)

    def loss():
        pooled = F.batch_norm_relu_max_pool2d(x, *(a.copy() for a in running), weight, bias, training)
        return float(np.sum(pooled * dout))

    dx, dw, db = F.batch_norm_relu_max_pool2d_backward(dout, out, window, x, weight, mean, invstd, training)
    check_backward(loss, {"x": x, "w": weight, "b": bias}, {"x": dx, "w": dw, "b": db})


def test_thread_count_does_not_change_results(rng):
    # 32 x 6 x 20 x 24 values: above the work a kernel splits over threads (kParallelWork in cpp/common.h)
    x, weight, bias = args_of(rng, (32, 6, 20, 24), np.float32)
    runs = []
    for threads in (1, 2):
        with num_threads(threads):
            out, window, mean, invstd = _core.batch_norm_relu_max_pool_forward(x, None, None, weight, bias, True)
            dout = np.linspace(-1, 1, out.size, dtype=np.float32).reshape(out.shape)
            runs.append((out, window) + F.batch_norm_relu_max_pool2d_backward(dout, out, window, x, weight, mean,
                                                                              invstd))
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)


def test_any_window_byte_stays_inside_its_window(rng):
    x, weight, bias = args_of(rng, (2, 2, 6, 6), np.float32)
    out, window, mean, invstd = _core.batch_norm_relu_max_pool_forward(x, None, None, weight, bias, True)
    dout = np.ones_like(out)
    for byte in (4, 7, 255):  # read through the low two bits: positions 0, 3 and 3
        dx, _, _ = F.batch_norm_relu_max_pool2d_backward(dout, out, np.full_like(window, byte), x, weight, mean,
                                                         invstd)
        want, _, _ = F.batch_norm_relu_max_pool2d_backward(dout, out, np.full_like(window, byte & 3), x, weight,
                                                           mean, invstd)
        np.testing.assert_array_equal(dx, want)


def test_bad_arguments_are_value_errors():
    x = np.zeros((2, 3, 4, 4), np.float32)
    w = np.ones(3, np.float32)
    with pytest.raises(ValueError, match=r"x: expected a 4-D array \(N, C, H, W\), got shape \(2, 3\)"):
        _core.batch_norm_relu_max_pool_forward(np.zeros((2, 3), np.float32), None, None, None, None, True)
    with pytest.raises(ValueError, match=r"x: a 2x2 max-pool needs images of at least 2x2, got shape \(2, 3, 1, 4\)"):
        _core.batch_norm_relu_max_pool_forward(np.zeros((2, 3, 1, 4), np.float32), None, None, None, None, True)
    with pytest.raises(ValueError, match="eps: must be positive"):
        _core.batch_norm_relu_max_pool_forward(x, None, None, w, w, True, 0.1, 0.0)
    out, window, mean, invstd = _core.batch_norm_relu_max_pool_forward(x + 1, None, None, w, w, True)
    with pytest.raises(ValueError, match=r"window: expected a uint8 array, got int64"):
        _core.batch_norm_relu_max_pool_backward(out, out, window.astype(np.int64), x, w, mean, invstd, True)
    with pytest.raises(ValueError, match=r"window: expected shape \(2, 3, 2, 2\)"):
        _core.batch_norm_relu_max_pool_backward(out, out, window[:1], x, w, mean, invstd, True)
    with pytest.raises(ValueError, match=r"dout: expected shape \(2, 3, 2, 2\)"):
        _core.batch_norm_relu_max_pool_backward(x, out, window, x, w, mean, invstd, True)
    with pytest.raises(ValueError, match="max_pool=True fuses a ReLU and a 2x2 max-pool"):
        nn.BatchNorm2d(3)(nntrain.tensor(x), max_pool=True)


# ---- Sequential -----------------------------------------------------------------------------------------

def stage(rng):
    return nn.Sequential(nn.Conv2d(2, 4, 3, padding=1, bias=False, rng=rng), nn.BatchNorm2d(4), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten())


def one_step(model, x):
    xt = nntrain.tensor(x)
    out = model(xt)
    (out * out).sum().backward()
    return out.numpy(), [p.grad.copy() for p in model.parameters()], model[1].running_var.copy()


def test_sequential_runs_the_fused_kernel_at_the_end_of_a_stage(rng, monkeypatch):
    x = rng.standard_normal((5, 2, 7, 6)).astype(np.float32)
    fused_model, plain_model = stage(np.random.default_rng(1)), stage(np.random.default_rng(1))
    calls = []
    original = F.batch_norm_relu_max_pool2d
    monkeypatch.setattr(F, "batch_norm_relu_max_pool2d", lambda *a, **k: calls.append(1) or original(*a, **k))
    fused = one_step(fused_model, x)
    assert calls == [1]
    # the same modules one by one (a hook on the ReLU makes Sequential leave it unfused, and the hook runs)
    seen = []
    plain_model[2].register_forward_hook(lambda module, inputs, output: seen.append(output.shape))
    plain = one_step(plain_model, x)
    assert calls == [1] and seen == [(5, 4, 7, 6)]
    np.testing.assert_array_equal(fused[0], plain[0])
    for a, b in zip(fused[1], plain[1]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6 * float(np.abs(b).max()))
    np.testing.assert_array_equal(fused[2], plain[2])


def test_sequential_fuses_only_a_plain_2x2_pool(rng, monkeypatch):
    calls = []
    original = F.batch_norm_relu_max_pool2d
    monkeypatch.setattr(F, "batch_norm_relu_max_pool2d", lambda *a, **k: calls.append(1) or original(*a, **k))
    x = nntrain.tensor(rng.standard_normal((3, 2, 6, 6)).astype(np.float32))
    for pool in (nn.MaxPool2d(3), nn.MaxPool2d(2, stride=1), nn.MaxPool2d(2, ceil_mode=True),
                 nn.MaxPool2d(2, padding=1)):
        model = nn.Sequential(nn.BatchNorm2d(2), nn.ReLU(), pool)
        want = nn.Sequential(nn.BatchNorm2d(2), nn.ReLU())(x)
        np.testing.assert_array_equal(model(x).numpy(), pool(want).numpy())
    assert calls == []
    model = nn.Sequential(nn.BatchNorm2d(2), nn.ReLU(), nn.MaxPool2d(2))
    model.eval()  # evaluation runs the modules one by one
    model(x)
    assert calls == []
