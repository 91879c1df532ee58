"""`nntrain train | eval | predict | datasets` on folders of image files, through real processes."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

from nntrain.checkpoint import load_weights
from nntrain.data import load_digits
from nntrain.data.image_folder import ImageFolder

from cli_helpers import assert_clean_error, parse_json, run_process


def write_digits(root):
    """The embedded digits as 8x8 PNGs (pixel counts 0..16 stored exactly), in train/ and test/ folders."""
    splits = load_digits()
    for part, data in (("train", splits.train), ("test", splits.test)):
        values = np.rint(data.x[:, 0] * 16).astype(np.uint8)
        for i, (pixels, label) in enumerate(zip(values, data.y)):
            folder = root / part / f"digit-{label}"
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(pixels).save(folder / f"{i:04d}.png")
    return root


@pytest.fixture(scope="module")
def digits_folder(tmp_path_factory):
    return write_digits(tmp_path_factory.mktemp("images") / "digits")


def write_photos(root, sizes, classes=("cat", "dog", "owl"), per_class=12, seed=0):
    """Colour JPEGs of several sizes, each class a different dominant colour (so a model can learn it)."""
    rng = np.random.default_rng(seed)
    for c, name in enumerate(classes):
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            h, w = sizes[i % len(sizes)]
            pixels = rng.integers(0, 80, (h, w, 3), dtype=np.uint8)
            pixels[:, :, c] += 150
            Image.fromarray(pixels).save(root / name / f"{i:03d}.jpg", quality=95)
    return root


def train(*args, timeout=600):
    return run_process("train", "--quiet", "--json", "--threads", 1, *args, timeout=timeout)


def test_the_digits_as_png_files_train_to_the_weights_of_the_same_pixels_in_memory(digits_folder, tmp_path):
    # The same pixels in the same order as arrays (.npz): the image path must give the very same run.
    arrays = {}
    for part in ("train", "test"):
        folder = ImageFolder(digits_folder / part)
        x = np.stack([np.asarray(folder[i][0])[None] for i in range(len(folder))]).astype(np.float32) / 255
        arrays[f"x_{part}"], arrays[f"y_{part}"] = x, np.array(folder.targets)
    np.savez(tmp_path / "digits.npz", **arrays)
    files = train("--data", digits_folder, "--epochs", 3, "--out", tmp_path / "files", "--workers", 2)
    memory = train("--data", tmp_path / "digits.npz", "--epochs", 3, "--out", tmp_path / "memory")
    assert files.returncode == 0 and memory.returncode == 0, files.stderr + memory.stderr
    a, b = parse_json(files.stdout), parse_json(memory.stdout)
    for part in ("train", "val", "test"):
        assert a[part]["accuracy"] == b[part]["accuracy"]
        # evaluation reads files in batches of another size than arrays: float32 batch means, summed
        assert a[part]["loss"] == pytest.approx(b[part]["loss"], rel=1e-6)
    assert a["test"]["accuracy"] > 0.85
    wa, wb = (load_weights(tmp_path / run / "model.safetensors") for run in ("files", "memory"))
    for k in wa:
        np.testing.assert_array_equal(wa[k], wb[k])
    # and about as well as the embedded arrays (scaled by 1/16, in another order) do
    embedded = train("--epochs", 3, "--out", tmp_path / "embedded")
    assert abs(parse_json(embedded.stdout)["test"]["accuracy"] - a["test"]["accuracy"]) < 0.03


def test_a_folder_of_photos_with_augmentation_and_workers_then_eval_and_predict(tmp_path):
    photos = write_photos(tmp_path / "photos", sizes=[(20, 24), (24, 20), (30, 30)])
    run = tmp_path / "run"
    done = train("--data", photos, "--model", "cnn", "--image-size", 16, 16, "--augment", "flip,crop",
                 "--workers", 2, "--epochs", 4, "--val-split", 0.2, "--test-split", 0.2, "--out", run)
    assert done.returncode == 0, done.stderr
    result = parse_json(done.stdout)
    assert result["test"]["samples"] == 7 and result["val"]["samples"] == 6
    from nntrain.config import read_toml

    data = read_toml(run / "config.toml")["data"]
    assert data["augment"] == ["flip", "crop"] and data["image_size"] == [16, 16] and data["workers"] == 2
    evaluated = run_process("eval", run, "--json")
    assert evaluated.returncode == 0, evaluated.stderr
    assert parse_json(evaluated.stdout)["accuracy"] == result["test"]["accuracy"]
    # an image of another size and format: read through Pillow, resized as training did
    red = np.zeros((50, 40, 3), np.uint8)
    red[:, :, 0] = 220
    Image.fromarray(red).save(tmp_path / "red.webp")
    Image.fromarray(red).save(tmp_path / "red.bmp")
    predicted = run_process("predict", run, tmp_path / "red.webp", tmp_path / "red.bmp", "--json")
    assert predicted.returncode == 0, predicted.stderr
    names = [p["name"] for p in parse_json(predicted.stdout)["predictions"]]
    assert names == ["cat", "cat"]  # red is the cat class's colour


def test_datasets_lists_the_classes_of_each_split(digits_folder):
    listed = run_process("datasets", digits_folder, "--json")
    assert listed.returncode == 0, listed.stderr
    (info,) = parse_json(listed.stdout)["paths"]
    assert info["kind"] == "image folder" and info["image_size"] == [8, 8] and info["mode"] == "L"
    assert sum(info["splits"]["train"].values()) == 1437 and sum(info["splits"]["test"].values()) == 360
    assert info["splits"]["test"]["digit-0"] == int((load_digits().test.y == 0).sum())
    text = run_process("datasets", digits_folder)
    assert "digit-9" in text.stdout and "1,437" in text.stdout


def _break(kind, root):
    """Damages an image folder of the 'cat/dog/owl' kind in one way; returns what the error must name."""
    if kind == "corrupt image":
        path = root / "dog" / "003.jpg"
        path.write_bytes(path.read_bytes()[:200])
        return r"dog/003.jpg: truncated or corrupt image"
    if kind == "not an image":
        (root / "dog" / "readme.txt").write_text("hello")
        return r"dog/readme.txt: not an image file"
    if kind == "empty class":
        (root / "emu").mkdir()
        return r"emu: class folder holds no images"
    if kind == "one class":
        for name in ("dog", "owl"):
            for f in (root / name).iterdir():
                f.unlink()
            (root / name).rmdir()
        return r"photos: only one class folder \(cat\); a classifier needs at least two"
    if kind == "mixed sizes":
        return r"\d+\.jpg: \d+x\d+ pixels, but .*000.jpg has 20x24; .*--image-size H W"
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["corrupt image", "not an image", "empty class", "one class", "mixed sizes"])
def test_mistakes_in_an_image_folder_are_one_error_line(tmp_path, kind):
    photos = write_photos(tmp_path / "photos", sizes=[(20, 24)] if kind != "mixed sizes" else [(20, 24), (21, 24)],
                          per_class=4)
    match = _break(kind, photos)
    done = run_process("train", "--data", photos, "--model", "cnn", "--epochs", 1, "--out", tmp_path / "run",
                       "--workers", 2)
    assert_clean_error(done.returncode, done.stderr, 2, match)
    assert done.stderr.count("\n") == 1  # nothing else on stderr


def test_skip_bad_images_says_how_many_it_left_out(tmp_path):
    photos = write_photos(tmp_path / "photos", sizes=[(12, 12)], per_class=5)
    (photos / "owl" / "002.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    done = run_process("train", "--data", photos, "--model", "mlp", "--epochs", 1, "--out", tmp_path / "run",
                       "--skip-bad-images", "--threads", 1)
    assert done.returncode == 0, done.stderr
    assert "skipped 1 unreadable image (the first: " in done.stdout and "owl/002.jpg" in done.stdout
    assert "14 train" not in done.stdout and "examples of (3, 12, 12)" in done.stdout


def test_interrupted_image_run_with_workers_resumes_to_the_uninterrupted_weights(digits_folder, tmp_path):
    # 20 epochs of about 75 ms: with 6, a fast core finished the other 5 within the 0.3 s this test used to
    # wait after the first, and the run ended before its interruption (AMD Zen 4, exit 0 against 130)
    args = ["--data", digits_folder, "--epochs", 20, "--batch-size", 16, "--workers", 2, "--augment", "flip,crop",
            "--threads", 1, "--quiet"]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    proc = subprocess.Popen([sys.executable, "-m", "nntrain", "train", *map(str, args), "--out", str(tmp_path / "cut")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.time() + 300
    while not (tmp_path / "cut" / "metrics.csv").exists():
        assert proc.poll() is None, proc.communicate()
        assert time.time() < deadline
        time.sleep(0.01)
    time.sleep(0.05)  # into the second epoch
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 130, err
    assert "Interrupted at epoch" in err and "Traceback" not in err
    resumed = run_process("train", "--resume", tmp_path / "cut", "--quiet", "--workers", 1)
    assert resumed.returncode == 0, resumed.stderr
    full = run_process("train", *args, "--out", tmp_path / "full", timeout=600)
    assert full.returncode == 0, full.stderr
    a, b = (load_weights(tmp_path / d / "model.safetensors") for d in ("full", "cut"))
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])


def test_kept_and_streamed_images_train_to_the_same_weights(digits_folder, tmp_path):
    # --cache-images alone is "on"; "off" decodes every image every epoch in the workers
    args = ["--data", digits_folder, "--epochs", 2, "--augment", "flip,crop", "--workers", 2]
    kept = train(*args, "--cache-images", "--out", tmp_path / "kept")
    streamed = train(*args, "--cache-images", "off", "--out", tmp_path / "streamed")
    assert kept.returncode == 0 and streamed.returncode == 0, kept.stderr + streamed.stderr
    a, b = parse_json(kept.stdout), parse_json(streamed.stdout)
    for part in ("train", "val", "test"):
        assert a[part]["accuracy"] == b[part]["accuracy"]
    wa, wb = (load_weights(tmp_path / run / "model.safetensors") for run in ("kept", "streamed"))
    for k in wa:
        np.testing.assert_array_equal(wa[k], wb[k])
    assert "cache_images = \"on\"" in (tmp_path / "kept" / "config.toml").read_text()


def test_a_run_configured_before_cache_images_existed_resumes(digits_folder, tmp_path):
    args = ["--data", digits_folder, "--model", "mlp", "--batch-size", 32]
    first = train(*args, "--epochs", 1, "--out", tmp_path / "old")
    assert first.returncode == 0, first.stderr
    config = tmp_path / "old" / "config.toml"
    lines = config.read_text().splitlines(keepends=True)
    config.write_text("".join(line for line in lines if not line.startswith("cache_images")))
    resumed = run_process("train", "--resume", tmp_path / "old", "--epochs", 2, "--cache-images", "off", "--quiet")
    assert resumed.returncode == 0, resumed.stderr
    full = train(*args, "--epochs", 2, "--out", tmp_path / "full")
    assert full.returncode == 0, full.stderr
    a, b = (load_weights(tmp_path / d / "model.safetensors") for d in ("old", "full"))
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])


def test_a_bad_cache_images_value_is_one_error_line(digits_folder, tmp_path):
    done = run_process("train", "--data", digits_folder, "--cache-images", "maybe", "--out", tmp_path / "run")
    assert_clean_error(done.returncode, done.stderr, 2, r"maybe")
    (tmp_path / "run.toml").write_text('[data]\ncache_images = "yes"\n')
    done = run_process("train", tmp_path / "run.toml", "--data", digits_folder, "--out", tmp_path / "r2")
    assert_clean_error(done.returncode, done.stderr, 2, r"'data.cache_images': unknown value 'yes' \(choose from "
                                                        r"auto, on, off\)")
