"""Decoded images kept in memory (data/image_cache.py, run_data.load_data): when, and the very same numbers."""

import numpy as np
import pytest
from PIL import Image

from nntrain import config as cfg
from nntrain.data import ArrayDataset, DataLoader
from nntrain.data import image_cache
from nntrain.data.dataset import Subset, TransformedDataset
from nntrain.data.image_cache import DecodedImages, available_memory, estimated_bytes, should_cache
from nntrain.data.image_folder import ImageFolder
from nntrain.data.image_splits import image_folder_splits, inspect_and_keep_images, inspect_images
from nntrain.run_data import eval_batches, load_data

ENOUGH, NONE = (lambda: 1 << 40), (lambda: 1)


def write_folder(root, sizes, gray_every=0, per_class=7, seed=0):
    """PNGs in three class folders, of the given sizes; every ``gray_every``-th image gray (8-bit "L" or a
    palette of grays), the others colour."""
    rng = np.random.default_rng(seed)
    for c, name in enumerate(("ant", "bee", "cow")):
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            h, w = sizes[i % len(sizes)]
            if gray_every and i % gray_every == 0:
                img = Image.fromarray(rng.integers(0, 256, (h, w), dtype=np.uint8))
                if i % (2 * gray_every) == 0:
                    img = img.convert("P")  # a palette of grays: read as gray
            else:
                pixels = rng.integers(0, 120, (h, w, 3), dtype=np.uint8)
                pixels[:, :, c] += 120
                img = Image.fromarray(pixels)
            img.save(root / name / f"{i:03d}.png")
    return root


def config_for(path, **data):
    return cfg.resolve(None, {"data": dict({"path": str(path), "val_split": 0.2, "test_split": 0.2}, **data)})


def batches(splits, part="train", epochs=2):
    """Every batch of ``part`` over ``epochs`` epochs as the run's loader makes them (train) or evaluation
    reads them (val, test)."""
    dataset = getattr(splits, part)
    if part != "train":
        data = eval_batches(dataset, splits.collate_fn)
        return [(data.x, data.y)] if isinstance(data, ArrayDataset) else [
            (np.concatenate([x for x, _ in data]), np.concatenate([y for _, y in data]))]
    loader = DataLoader(dataset, batch_size=5, shuffle=True, seed=3, collate_fn=splits.collate_fn)
    return [(x.copy(), y.copy()) for _ in range(epochs) for x, y in loader]


def assert_same_batches(kept, streamed):
    for part in ("train", "val", "test"):
        a, b = batches(kept, part), batches(streamed, part)
        assert len(a) == len(b)
        for (xa, ya), (xb, yb) in zip(a, b):
            assert xa.dtype == xb.dtype == np.float32
            np.testing.assert_array_equal(xa, xb)
            np.testing.assert_array_equal(ya, yb)


def test_available_memory_reads_meminfo_or_falls_back_to_sysconf(monkeypatch):
    assert available_memory() > 0
    monkeypatch.setattr(image_cache, "MEMINFO", "/nonexistent/meminfo")
    assert available_memory() > 0


def test_the_estimate_is_images_times_channels_times_size_in_float32(tmp_path):
    gray = image_folder_splits(write_folder(tmp_path / "gray", [(6, 5)], gray_every=1))
    assert estimated_bytes(gray) == 21 * 1 * 6 * 5 * 4
    assert estimated_bytes(gray, (10, 12)) == 21 * 1 * 10 * 12 * 4
    colour = image_folder_splits(write_folder(tmp_path / "colour", [(6, 5)]))
    assert estimated_bytes(colour) == 21 * 3 * 6 * 5 * 4
    assert estimated_bytes(image_folder_splits(tmp_path / "gray", mode="RGB")) == 21 * 3 * 6 * 5 * 4


def test_auto_keeps_the_images_when_a_quarter_of_the_memory_holds_them(tmp_path):
    splits = image_folder_splits(write_folder(tmp_path / "f", [(6, 5)]))
    need = 21 * 3 * 6 * 5 * 4
    assert should_cache("auto", splits, memory=lambda: 4 * need)
    assert not should_cache("auto", splits, memory=lambda: 4 * need - 1)
    assert should_cache("on", splits, memory=NONE) and not should_cache("off", splits, memory=ENOUGH)
    with pytest.raises(ValueError, match="cache_images must be one of auto, on, off, got 'yes'"):
        should_cache("yes", splits)


@pytest.mark.parametrize("setting, memory, kept", [("auto", ENOUGH, True), ("auto", NONE, False), ("on", NONE, True),
                                                   ("off", ENOUGH, False)])
def test_load_data_keeps_arrays_or_streams_as_configured(tmp_path, setting, memory, kept):
    folder = write_folder(tmp_path / "f", [(6, 5)])
    splits, _ = load_data(config_for(folder, cache_images=setting), memory=memory)
    for part in splits.parts().values():
        if kept:
            assert type(part) is ArrayDataset
        else:  # read from the files each time
            assert isinstance(part, TransformedDataset) and isinstance(part.dataset, (ImageFolder, Subset))
    assert splits.input_shape == (3, 6, 5) and splits.class_names == ["ant", "bee", "cow"]
    assert (splits.collate_fn is None) == kept


@pytest.mark.parametrize("augment", [[], ["flip", "crop", "rotate"], ["jitter", "flip"]])
@pytest.mark.parametrize("workers", [0, 2])
def test_kept_images_give_the_batches_of_the_files_to_the_bit(tmp_path, augment, workers):
    # gray (and palette-gray) images among colour ones, of several sizes, resized: every conversion streaming does
    folder = write_folder(tmp_path / "f", [(9, 7), (6, 8), (7, 7)], gray_every=3)
    settings = {"image_size": [7, 6], "augment": augment, "workers": workers}
    kept, normalizer = load_data(config_for(folder, cache_images="on", **settings))
    streamed, reference = load_data(config_for(folder, cache_images="off", **settings))
    np.testing.assert_array_equal(normalizer.mean, reference.mean)
    np.testing.assert_array_equal(normalizer.std, reference.std)
    assert (kept.input_shape, kept.classes, kept.class_names) == (streamed.input_shape, streamed.classes,
                                                                   streamed.class_names)
    if "jitter" in augment:  # Pillow's rounding to bytes, as from the files
        assert isinstance(kept.train, TransformedDataset) and isinstance(kept.train.dataset, DecodedImages)
    assert_same_batches(kept, streamed)


def test_kept_images_of_a_folder_with_an_unreadable_image_follow_the_split(tmp_path):
    folder = write_folder(tmp_path / "f", [(6, 5)])
    (folder / "bee" / "002.png").write_bytes(b"\x89PNG not really")
    splits = image_folder_splits(folder)
    counts, kept = inspect_and_keep_images(splits, skip_bad=True)
    assert len(kept["train"]) == len(splits.train) == 20 and [p for p, _ in splits.skipped] == [
        str(folder / "bee" / "002.png")]
    again = image_folder_splits(folder)
    np.testing.assert_array_equal(counts, inspect_images(again, skip_bad=True))
    for pixels, (img, _) in zip(kept["train"], (again.train[i] for i in range(len(again.train)))):
        np.testing.assert_array_equal(pixels, np.asarray(img))


@pytest.mark.parametrize("gray_every, shape", [(1, (3, 5, 6)), (0, (1, 6, 5)), (2, (1, 6, 6))])
def test_kept_images_read_in_a_trained_models_mode_and_size_match_the_files(tmp_path, gray_every, shape):
    # eval reads a folder in the model's mode and size: gray images as RGB, colour ones as gray, resized
    folder = write_folder(tmp_path / "f", [(6, 5), (8, 8)], gray_every=gray_every)
    kept, _ = load_data(config_for(folder, cache_images="on"), input_shape=shape)
    streamed, _ = load_data(config_for(folder, cache_images="off"), input_shape=shape)
    assert kept.input_shape == streamed.input_shape == shape
    assert_same_batches(kept, streamed)
