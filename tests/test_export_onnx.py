"""ONNX export: every exportable layer, every preset, the CLI, and the errors. Skips without onnx."""

import numpy as np
import pytest

onnx = pytest.importorskip("onnx", reason="ONNX export tests need onnx and onnxruntime: pip install 'nntrain[onnx]'")
ort = pytest.importorskip("onnxruntime", reason="ONNX export tests need onnxruntime: pip install 'nntrain[onnx]'")

import nntrain  # noqa: E402
from nntrain import nn, presets  # noqa: E402
from nntrain.autograd import Function  # noqa: E402
from nntrain.export import IR_VERSION, OPSET, ExportError, to_onnx  # noqa: E402

from cli_helpers import assert_clean_error, invoke  # noqa: E402


def run_onnx(proto, x):
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {"input": x})[0]


@pytest.mark.parametrize("preset", ["mlp", "lenet", "cnn", "resnet"])
def test_presets_export_and_match_with_any_batch_size(rng, preset):
    model = presets.build(preset, (1, 28, 28), 10, rng=rng)
    model(rng.standard_normal((16, 1, 28, 28)).astype(np.float32))  # training mode: BN statistics move
    proto = to_onnx(model, (1, 28, 28))
    assert proto.ir_version == IR_VERSION and proto.opset_import[0].version == OPSET
    model.eval()
    for batch in (1, 7):
        x = rng.standard_normal((batch, 1, 28, 28)).astype(np.float32)
        np.testing.assert_allclose(run_onnx(proto, x), model(x), rtol=1e-5, atol=1e-5)


def test_every_exportable_layer(rng):
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1, rng=rng), nn.BatchNorm2d(4), nn.LeakyReLU(0.2),
        nn.Residual(nn.Sequential(nn.Conv2d(4, 4, 3, padding=1, rng=rng), nn.ELU(0.7))),
        nn.Residual(nn.Sequential(nn.Conv2d(4, 6, 3, stride=2, padding=1, rng=rng)),
                    nn.Conv2d(4, 6, 1, stride=2, rng=rng)),
        nn.AvgPool2d(3, 1, 1, count_include_pad=False), nn.MaxPool2d(2), nn.Flatten(), nn.Dropout(0.5),
        nn.Linear(24, 16, rng=rng), nn.GELU(), nn.BatchNorm1d(16), nn.Sigmoid(), nn.Linear(16, 16, rng=rng),
        nn.GELU("tanh"), nn.Tanh(), nn.Linear(16, 10, rng=rng), nn.Softmax(temperature=2.0))
    model(rng.standard_normal((8, 1, 8, 8)).astype(np.float32))
    proto = to_onnx(model, (1, 8, 8))
    ops = {n.op_type for n in proto.graph.node}
    assert {"Conv", "BatchNormalization", "LeakyRelu", "Add", "Elu", "AveragePool", "MaxPool", "Flatten", "Gemm",
            "Gelu", "Sigmoid", "Tanh", "Div", "Softmax"} <= ops
    model.eval()
    x = rng.standard_normal((5, 1, 8, 8)).astype(np.float32)
    np.testing.assert_allclose(run_onnx(proto, x), model(x), rtol=1e-5, atol=1e-6)


def test_what_cannot_be_exported_is_a_clear_error(rng):
    with pytest.raises(ExportError, match="BatchNorm without running statistics"):
        to_onnx(nn.Sequential(nn.BatchNorm1d(4, track_running_stats=False)), (4,))

    class Cube(Function):  # a user's own op: nntrain knows no ONNX operator for it
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 3 * x * x * g

    class Custom(nn.Module):
        def forward(self, x):
            return Cube.apply(x)

    with pytest.raises(ExportError, match=r"layer '1' \(Custom\): the op Cube has no ONNX mapping"):
        to_onnx(nn.Sequential(nn.ReLU(), Custom()), (4,))


def test_a_network_written_as_forward_exports(rng):
    class TwoBranch(nn.Module):  # two branches, a shared layer, a concatenation, Tensor arithmetic
        def __init__(self):
            super().__init__()
            self.shared = nn.Linear(8, 8, rng=rng)
            self.left, self.right = nn.Linear(8, 6, rng=rng), nn.Linear(8, 6, rng=rng)
            self.head = nn.Linear(12, 3, rng=rng)

        def forward(self, x):
            h = self.shared(x.flatten(1)).relu()
            a = self.left(h).tanh()
            b = self.right(self.shared(h)).sigmoid() * 2.0 - 1.0
            return self.head(nntrain.cat([a, b], dim=1)).softmax(dim=1)

    model = TwoBranch()
    proto = to_onnx(model, (2, 4))
    x = rng.standard_normal((5, 2, 4)).astype(np.float32)
    np.testing.assert_allclose(run_onnx(proto, x), model(x), rtol=1e-5, atol=1e-6)
    assert sum(n.op_type == "Gemm" for n in proto.graph.node) == 5  # the shared layer appears at both uses


def test_cli_export(tmp_path):
    assert invoke("train", "--epochs", 1, "--out", tmp_path / "run", "--quiet")[0] == 0
    status, out, err = invoke("export", tmp_path / "run", "--format", "onnx", "-o", tmp_path / "m.onnx")
    assert status == 0, err
    assert "onnxruntime matches" in out
    proto = onnx.load(str(tmp_path / "m.onnx"))
    onnx.checker.check_model(proto)
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    assert_clean_error(*invoke("export", tmp_path / "nothing")[::2], 2, r"no such file|not a run directory|no model")


def test_initializers_keep_the_shapes_of_the_arrays_they_hold(rng):
    # A 0-d array (Softmax's temperature) must stay a scalar tensor, not become shape (1,).
    model = nn.Sequential(nn.Linear(4, 3, rng=rng), nn.BatchNorm1d(3), nn.Softmax(temperature=2.0))
    proto = to_onnx(model, (4,))
    shapes = {init.name.rsplit("_", 1)[0]: list(init.dims) for init in proto.graph.initializer}
    state = model.state_dict()
    assert shapes["temperature"] == []
    for name, dims in shapes.items():
        if name in state:
            assert dims == list(state[name].shape), name
