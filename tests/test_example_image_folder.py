"""examples/image_folder_model.py -- the issue's code: a Pillow data set, DataLoader, Model.prepare/fit/evaluate --
trains exactly as the same images held in memory do. (The other examples: test_examples.py.)"""

import importlib.util
import os
import subprocess
import sys

import numpy as np

import nntrain
from nntrain import metric, nn
from nntrain.data import ArrayDataset, random_split
from nntrain.data import ImageFolder

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(ROOT, "examples")


def load_example(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(EXAMPLES, f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # the script's work is under `if __name__ == "__main__"`
    return module


def in_memory(dataset):
    """Every example of ``dataset`` decoded once into an ArrayDataset."""
    x = np.empty((len(dataset),) + dataset[0][0].shape, dtype=np.float32)
    y = np.empty(len(dataset), dtype=np.int64)
    for i in range(len(dataset)):
        x[i], y[i] = dataset[i]
    return ArrayDataset(x, y, 10)


def test_the_image_folder_example_trains_as_the_array_path_does(tmp_path):
    example = load_example("image_folder_model")
    from_files, result = example.main(str(tmp_path / "files"), epochs=2, verbose=0)
    assert set(result) == {"loss", "acc"} and result["acc"] > 0.85

    train_items, test_items = example.write_digits(str(tmp_path / "arrays"))
    assert len(train_items) == 1437 and len(test_items) == 360
    train_set, val_set = random_split(in_memory(example.MyDataset(train_items)), [0.9, 0.1], generator=0)
    model = nntrain.Model(example.MyMLP())
    model.prepare(nntrain.optim.Adam(model.parameters(), lr=0.001), nn.CrossEntropyLoss(), metric.Accuracy())
    model.fit(train_set, eval_data=val_set, epochs=2, batch_size=64, verbose=0)
    assert model.evaluate(in_memory(example.MyDataset(test_items)), batch_size=64) == result
    for key, value in model.network.state_dict().items():
        np.testing.assert_array_equal(from_files.network.state_dict()[key], value, err_msg=key)
    np.testing.assert_array_equal(from_files.trainer.history[-1].val_accuracy, model.trainer.history[-1].val_accuracy)


def test_the_issues_code_runs_on_a_generated_folder_of_jpeg_and_png_images_of_any_size(tmp_path):
    from PIL import Image

    example = load_example("image_folder_model")
    rng = np.random.default_rng(0)
    for c, name in enumerate(["cat", "dog", "fox"]):
        (tmp_path / name).mkdir()
        for i in range(8):
            h, w = rng.integers(20, 140, size=2)
            pixels = rng.integers(0, 256, size=(h, w, 3)).astype(np.uint8)
            pixels[..., c] //= 4  # something to learn: one channel darker per class
            image = Image.fromarray(pixels) if i % 3 else Image.fromarray(pixels[..., 1])  # RGB and grayscale
            image.save(tmp_path / name / f"{i}.{'jpg' if i % 2 else 'png'}")
    items = ImageFolder(str(tmp_path)).samples
    train_set, val_set = random_split(example.MyDataset(items), [0.75, 0.25], generator=0)
    model = nntrain.Model(example.MyMLP(num_classes=3))
    model.prepare(nntrain.optim.Adam(model.parameters(), lr=0.001), nn.CrossEntropyLoss(), metric.Accuracy())
    history = model.fit(train_set, eval_data=val_set, epochs=2, batch_size=4, verbose=0)
    result = model.evaluate(example.MyDataset(items), batch_size=5)
    assert list(history) == ["loss", "acc", "val_loss", "val_acc", "lr"] and list(result) == ["loss", "acc"]
    assert np.isfinite(result["loss"]) and 0 <= result["acc"] <= 1
    assert model.predict(val_set, batch_size=3).shape == (6, 3)


def test_the_image_folder_example_runs_as_a_script():
    # the tests' own import path: the installed package in CI, python/ in a development tree
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    done = subprocess.run([sys.executable, os.path.join(EXAMPLES, "image_folder_model.py"), "--epochs", "1"],
                          capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert lines[0] == "1294 training images, 20 batches of 64 an epoch"
    assert lines[1].startswith("epoch   1/1  train loss ") and " val loss " in lines[1]
    assert lines[-1].startswith("test loss ") and "accuracy" in lines[-1]
