"""`nntrain eval | predict | summary | gradcheck | datasets`, --help and --version, through CliRunner and
as real processes."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import nntrain
from nntrain.checkpoint import load_weights

from cli_helpers import assert_clean_error, invoke, parse_json, run_process

COMMANDS = ["train", "eval", "predict", "summary", "gradcheck", "datasets"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "run"
    status, _, err = invoke("train", "--epochs", 5, "--out", path, "--quiet")
    assert status == 0, err
    return path


def test_version_and_help():
    info = nntrain.build_info()
    status, out, _ = invoke("--version")
    assert status == 0, out
    first, second = out.strip().split("\n")
    assert first.startswith(f"nntrain {nntrain.__version__}, Python {sys.version.split()[0]}, ")
    threads = info["threads"]
    assert second == (f"kernels: {info['isa']} (best this CPU runs: {info['isa_supported']}); "
                      f"compiler: {info['compiler']}; OpenMP: "
                      + (f"on, {threads} thread{'s' if threads != 1 else ''}" if info["openmp"] else "off, 1 thread"))
    assert invoke("-V")[1] == out
    status, out, _ = invoke("--help")
    assert status == 0 and all(c in out for c in COMMANDS)
    for command in COMMANDS:
        status, out, _ = invoke(command, "--help")
        assert status == 0 and "Example" in out, command


def test_help_does_not_load_numpy_or_the_core():
    # `nntrain --help` must answer at once: nothing heavy may be imported to print it.
    code = ("import sys; from nntrain.cli import main\n"
            "try:\n    main(['--help'], prog_name='nntrain')\nexcept SystemExit:\n    pass\n"
            "heavy = [m for m in ('numpy', 'nntrain._core', 'rich', 'safetensors') if m in sys.modules]\n"
            "print('HEAVY', heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "HEAVY []" in out


def test_version_names_the_forced_kernels_and_the_threads_in_a_real_process():
    def version(**env):
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p), **env)
        return subprocess.run([sys.executable, "-m", "nntrain", "--version"], capture_output=True, text=True,
                              env=env, timeout=60, check=True).stdout

    info = nntrain.build_info()
    out = version(NNTRAIN_ISA="ref", OMP_NUM_THREADS="1")
    assert f"kernels: ref (best this CPU runs: {info['isa_supported']})" in out
    assert ("OpenMP: on, 1 thread\n" if info["openmp"] else "OpenMP: off, 1 thread\n") in out
    assert "[NNTRAIN_ISA=sse9 is not one of ref, avx2, avx512, auto; using" in version(NNTRAIN_ISA="sse9")


def test_eval_reports_accuracy_per_class_and_confusion(run_dir):
    status, out, err = invoke("eval", run_dir, "--json", "--plot")
    assert status == 0, err
    result = parse_json(out)
    assert result["samples"] == 360 and result["split"] == "test"
    confusion = np.array(result["confusion"])
    assert confusion.shape == (10, 10) and confusion.sum() == 360
    assert result["accuracy"] == pytest.approx(np.trace(confusion) / 360)
    assert (run_dir / "confusion.png").read_bytes()[:4] == b"\x89PNG"
    status, out, _ = invoke("eval", run_dir / "model.safetensors", "--split", "val")
    assert status == 0 and "digits val" in out and "confusion matrix" in out


def test_eval_errors(run_dir, tmp_path):
    assert_clean_error(*invoke("eval", tmp_path)[::2], 2, r"no model.safetensors in this directory")
    (tmp_path / "junk.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json}")
    assert_clean_error(*invoke("eval", tmp_path / "junk.safetensors")[::2], 2, r"junk.safetensors: truncated or not a safetensors file")
    assert_clean_error(*invoke("eval", run_dir, "--data", "cifar10")[::2], 2, r"cifar10")


def test_predict_images_arrays_and_csv(run_dir, tmp_path):
    from nntrain.data import load_digits
    from nntrain.run import load_trained_model, normalizer_of

    test = load_digits().test
    model, meta = load_trained_model(run_dir)
    expected = model(normalizer_of(meta)(test).x).argmax(axis=1)  # what the model itself says
    np.save(tmp_path / "batch.npy", test.x[:5])
    np.save(tmp_path / "one.npy", np.round(test.x[7] * 255).astype(np.uint8))
    rows = np.concatenate([test.y[:3, None], np.round(test.x[:3].reshape(3, -1) * 255)], axis=1)
    np.savetxt(tmp_path / "rows.csv", rows, delimiter=",", fmt="%d")
    import matplotlib.image

    matplotlib.image.imsave(tmp_path / "digit.png", test.x[9, 0], cmap="gray", vmin=0, vmax=1)
    status, out, err = invoke("predict", run_dir, tmp_path / "batch.npy", tmp_path / "one.npy",
                              tmp_path / "rows.csv", tmp_path / "digit.png", "--top", 2, "--json")
    assert status == 0, err
    preds = parse_json(out)["predictions"]
    assert [p["input"] for p in preds][4:7] == [f"{tmp_path / 'batch.npy'}[4]", str(tmp_path / "one.npy"),
                                                 f"{tmp_path / 'rows.csv'}:1"]
    assert all(len(p["top"]) == 2 and p["top"][0]["probability"] >= p["top"][1]["probability"] for p in preds)
    assert [p["class"] for p in preds] == expected[[0, 1, 2, 3, 4, 7, 0, 1, 2, 9]].tolist()
    # temperature flattens the distribution
    hot = parse_json(invoke("predict", run_dir, tmp_path / "one.npy", "--temperature", 5, "--json")[1])
    cold = parse_json(invoke("predict", run_dir, tmp_path / "one.npy", "--json")[1])
    assert hot["predictions"][0]["top"][0]["probability"] < cold["predictions"][0]["top"][0]["probability"]


def test_predict_errors(run_dir, tmp_path):
    np.save(tmp_path / "wrong.npy", np.zeros((2, 5, 5), np.float32))
    assert_clean_error(*invoke("predict", run_dir, tmp_path / "wrong.npy")[::2], 2, r"the model takes \(1, 8, 8\)")
    assert_clean_error(*invoke("predict", run_dir, tmp_path / "x.txt")[::2], 2, r"unsupported input type '.txt'")
    assert_clean_error(*invoke("predict", run_dir, tmp_path / "none.npy")[::2], 2, r"no such file")
    (tmp_path / "bad.png").write_bytes(b"not a png")
    assert_clean_error(*invoke("predict", run_dir, tmp_path / "bad.png")[::2], 2, r"bad.png: not a readable image")
    assert_clean_error(*invoke("predict", run_dir, tmp_path / "wrong.npy", "--temperature", 0)[::2], 2,
                       r"--temperature must be positive")


@pytest.mark.parametrize("preset,params", [("mlp", 50_826), ("lenet", None), ("cnn", 148_266), ("resnet", None)])
def test_summary_prints_the_table_for_each_preset(preset, params):
    status, out, err = invoke("summary", "--model", preset)
    assert status == 0, err
    assert "Layer" in out and "Input Shape" in out and "Output Shape" in out and "Param #" in out
    if params:
        assert f"Total params: {params:,}" in out


def test_summary_of_a_config_that_does_not_chain_names_the_layer(tmp_path):
    config = tmp_path / "net.toml"
    config.write_text('[model]\nlayers = [{type = "Conv2d", out_channels = 4, kernel_size = 9}, {type = "Linear"}]\n')
    assert_clean_error(*invoke("summary", config)[::2], 2,
                       r"model.layers\[0\] \(Conv2d\): input \(N, 1, 8, 8\) does not fit: conv2d: input of 8x8")


@pytest.mark.parametrize("preset", ["mlp", "cnn", "resnet"])
def test_gradcheck_passes_for_presets(preset):
    status, out, err = invoke("gradcheck", "--model", preset, "--max-checks", 4)
    assert status == 0, err
    assert "gradcheck passed" in out


def test_gradcheck_exits_1_above_tolerance():
    status, out, _ = invoke("gradcheck", "--model", "mlp", "--tol", "1e-30", "--max-checks", 2)
    assert status == 1 and "FAILED" in out


def test_datasets_lists_the_embedded_digits():
    status, out, err = invoke("datasets", "--json")
    assert status == 0, err
    found = {d["name"]: d for d in json.loads(out)["found"]}
    assert found["digits"]["location"] == "embedded" and found["digits"]["sizes"] == {"train": 1437, "test": 360}
    status, out, _ = invoke("datasets")
    assert status == 0 and "digits" in out and "embedded" in out


def test_as_a_real_process_errors_have_no_traceback(tmp_path):
    result = run_process("train", "--data", str(tmp_path / "nothing-here"))
    assert_clean_error(result.returncode, result.stderr, 2)
    result = run_process("frobnicate")
    assert result.returncode == 2 and "No such command" in result.stderr and "Traceback" not in result.stderr


def test_every_command_runs_as_a_real_process(run_dir, tmp_path):
    from nntrain.data import load_digits

    np.save(tmp_path / "x.npy", load_digits().test.x[:2])
    for args in (["eval", run_dir, "--json"], ["predict", run_dir, tmp_path / "x.npy", "--json"],
                 ["summary", "--model", "lenet"], ["gradcheck", "--model", "mlp", "--max-checks", 2],
                 ["datasets", "--json"], ["--version"]):
        result = run_process(*args)
        assert result.returncode == 0, (args, result.stderr)
        assert result.stdout.strip() and "Traceback" not in result.stderr
