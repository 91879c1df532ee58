"""nntrain.data.image_folder and image_splits: folders of images read through Pillow, checked, split."""

import os

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from PIL import Image

from nntrain.data import DataError, DataLoader, Normalizer, Subset, load_path
from nntrain.data import transforms as T
from nntrain.data.image_folder import ImageFolder, read_image
from nntrain.data.image_splits import image_folder_parts, image_folder_splits, inspect_images, load_image_folder

FORMATS = {"png": "PNG", "jpg": "JPEG", "bmp": "BMP", "gif": "GIF", "webp": "WEBP"}


def write_folder(root, classes, per_class=3, size=(6, 5), mode="L", ext="png", rng=None, start=0):
    """root/<class>/<i>.<ext>: random images; returns {path: pixels as written (before any lossy encoding)}."""
    rng = rng or np.random.default_rng(0)
    written = {}
    for c in classes:
        os.makedirs(os.path.join(root, c), exist_ok=True)
        for i in range(start, start + per_class):
            shape = size if mode == "L" else size + (3,)
            pixels = rng.integers(0, 256, shape, dtype=np.uint8)
            path = os.path.join(root, c, f"{i:03d}.{ext}")
            Image.fromarray(pixels).save(path, FORMATS[ext], **({"lossless": True} if ext == "webp" else {}))
            written[path] = pixels
    return written


def test_classes_sorted_samples_listed_as_torchvision(tmp_path):
    write_folder(tmp_path, ["dog", "cat", "bird"], per_class=2)
    (tmp_path / "cat" / "sub").mkdir()
    Image.fromarray(np.zeros((6, 5), np.uint8)).save(tmp_path / "cat" / "sub" / "x.png")
    (tmp_path / ".ipynb_checkpoints").mkdir()
    (tmp_path / "dog" / ".DS_Store").write_bytes(b"\0")
    ds = ImageFolder(tmp_path)
    assert ds.classes == ["bird", "cat", "dog"] and ds.class_to_idx == {"bird": 0, "cat": 1, "dog": 2}
    assert [(os.path.relpath(p, tmp_path), t) for p, t in ds.samples] == [
        ("bird/000.png", 0), ("bird/001.png", 0), ("cat/000.png", 1), ("cat/001.png", 1), ("cat/sub/x.png", 1),
        ("dog/000.png", 2), ("dog/001.png", 2)]
    assert ds.targets == [0, 0, 1, 1, 1, 2, 2] and len(ds) == 7
    img, label = ds[3]
    assert isinstance(img, Image.Image) and img.mode == "L" and label == 1


# GIF keeps 256 colours: random RGB pixels would not survive it, gray ones do
@pytest.mark.parametrize("ext, mode", [("png", "L"), ("png", "RGB"), ("bmp", "L"), ("bmp", "RGB"), ("gif", "L"),
                                       ("webp", "L"), ("webp", "RGB")])
def test_lossless_formats_read_back_the_pixels(tmp_path, ext, mode):
    written = write_folder(tmp_path, ["a", "b"], ext=ext, mode=mode)
    ds = ImageFolder(tmp_path, transform=T.ToArray())
    for i, (path, _) in enumerate(ds.samples):
        x, _ = ds[i]
        pixels = written[path]
        expected = (pixels[None] if mode == "L" else pixels.transpose(2, 0, 1)).astype(np.float32) / 255
        if ext == "webp" and mode == "L":  # WebP has no gray mode: the gray comes back in three channels
            expected = np.repeat(expected, 3, axis=0)
        np.testing.assert_array_equal(x, expected)


def test_jpeg_is_read_gray_or_colour(tmp_path):
    write_folder(tmp_path / "g", ["a", "b"], ext="jpg", mode="L")
    write_folder(tmp_path / "c", ["a", "b"], ext="jpg", mode="RGB")
    assert ImageFolder(tmp_path / "g")[0][0].mode == "L"
    assert ImageFolder(tmp_path / "c")[0][0].mode == "RGB"
    assert ImageFolder(tmp_path / "c", mode="L")[0][0].mode == "L"
    assert ImageFolder(tmp_path / "g", mode="RGB")[0][0].mode == "RGB"


def test_alpha_palette_and_16_bit_images(tmp_path):
    rgba = np.random.default_rng(1).integers(0, 256, (4, 4, 4), dtype=np.uint8)
    Image.fromarray(rgba, "RGBA").save(tmp_path / "rgba.png")
    np.testing.assert_array_equal(np.asarray(read_image(tmp_path / "rgba.png")), rgba[:, :, :3])
    gray_palette = Image.fromarray(np.arange(16, dtype=np.uint8).reshape(4, 4) * 16).convert("P")
    gray_palette.save(tmp_path / "p.png")
    assert read_image(tmp_path / "p.png").mode == "L"
    deep = (np.arange(16, dtype=np.uint16).reshape(4, 4) * 4369)  # 0 .. 65535
    Image.fromarray(deep).save(tmp_path / "deep.png")
    np.testing.assert_array_equal(np.asarray(read_image(tmp_path / "deep.png")), (deep // 257).astype(np.uint8))


def test_unreadable_images_name_the_file(tmp_path):
    write_folder(tmp_path, ["a", "b"])
    good = tmp_path / "a" / "000.png"
    truncated = tmp_path / "a" / "001.png"
    truncated.write_bytes(good.read_bytes()[:60])
    (tmp_path / "b" / "000.png").write_bytes(b"this is not an image")
    ds = ImageFolder(tmp_path)
    with pytest.raises(DataError, match=r"a/001.png: truncated or corrupt image"):
        ds[1]
    with pytest.raises(DataError, match=r"b/000.png: not a readable image"):
        ds[3]
    skipping = ImageFolder(tmp_path, skip_bad=True)
    assert len(skipping) == 4 and sorted(os.path.basename(os.path.dirname(p)) + "/" + os.path.basename(p)
                                         for p, _ in skipping.skipped) == ["a/001.png", "b/000.png"]


@pytest.mark.parametrize("make, match", [
    (lambda p: (p / "a").mkdir(), r"a: class folder holds no images"),
    (lambda p: (p / "b" / "notes.txt").write_text("x"), r"b/notes.txt: not an image file"),
])
def test_folder_mistakes_name_the_file_or_folder(tmp_path, make, match):
    write_folder(tmp_path, ["b", "c"])
    make(tmp_path)
    with pytest.raises(DataError, match=match):
        ImageFolder(tmp_path)


def test_no_class_folders(tmp_path):
    Image.fromarray(np.zeros((3, 3), np.uint8)).save(tmp_path / "x.png")
    with pytest.raises(DataError, match=r"no class folders"):
        ImageFolder(tmp_path)


def test_layouts(tmp_path):
    write_folder(tmp_path / "one", ["a", "b"])
    assert image_folder_parts(tmp_path / "one") == {"train": str(tmp_path / "one")}
    for part in ("train", "val", "test"):
        write_folder(tmp_path / "split" / part, ["a", "b"])
    assert image_folder_parts(tmp_path / "split") == {s: str(tmp_path / "split" / s) for s in ("train", "val", "test")}
    assert image_folder_parts(tmp_path / "one" / "a") is None  # files, no class folders
    splits = load_path(tmp_path / "split")
    assert splits.classes == 2 and splits.class_names == ["a", "b"] and splits.input_shape == (1, 6, 5)
    assert [len(p) for p in splits.parts().values()] == [6, 6, 6]


def test_splits_must_share_classes_and_need_two(tmp_path):
    write_folder(tmp_path / "x" / "train", ["a", "b", "c"])
    write_folder(tmp_path / "x" / "test", ["a", "b", "d"])
    with pytest.raises(DataError, match=r"x/test: its class folders differ from .*x/train's \(lacks c; has d\)"):
        image_folder_splits(tmp_path / "x")
    write_folder(tmp_path / "y", ["only"])
    with pytest.raises(DataError, match=r"y: only one class folder \(only\); a classifier needs at least two"):
        image_folder_splits(tmp_path / "y")


def test_inspection_fixes_mode_and_size_and_checks_every_image(tmp_path):
    write_folder(tmp_path, ["a", "b"], size=(6, 5))
    write_folder(tmp_path, ["b"], size=(6, 5), mode="RGB", start=10)
    splits = load_image_folder(tmp_path)
    assert splits.input_shape == (3, 6, 5) and splits.train.mode == "RGB"
    write_folder(tmp_path, ["a"], size=(7, 5), start=20)
    with pytest.raises(DataError, match=r"a/020.png: 7x5 pixels, but .*a/000.png has 6x5; .*--image-size H W"):
        load_image_folder(tmp_path)
    assert load_image_folder(tmp_path, image_size=(4, 4), workers=2).input_shape == (3, 4, 4)


def test_skip_bad_leaves_unreadable_images_out_of_their_split(tmp_path):
    write_folder(tmp_path / "train", ["a", "b"], per_class=4)
    write_folder(tmp_path / "test", ["a", "b"], per_class=2)
    (tmp_path / "train" / "b" / "002.png").write_bytes(b"broken")
    with pytest.raises(DataError, match=r"train/b/002.png: not a readable image"):
        load_image_folder(tmp_path)
    splits = load_image_folder(tmp_path, skip_bad=True)
    assert len(splits.train) == 7 and len(splits.test) == 4
    assert [os.path.basename(p) for p, _ in splits.skipped] == ["002.png"]
    assert isinstance(splits.train, Subset) and 6 not in splits.train.indices.tolist()


def test_counts_give_the_statistics_of_the_pixels_as_fed(tmp_path, rng):
    write_folder(tmp_path, ["a", "b", "c"], per_class=7, size=(9, 8), mode="RGB", rng=rng)
    write_folder(tmp_path, ["c"], per_class=2, size=(9, 8), mode="L", rng=rng, start=50)
    splits = image_folder_splits(tmp_path)
    part = Subset(splits.train, np.arange(0, 23, 2))
    splits.train = part
    counts = inspect_images(splits, image_size=(5, 6), workers=2)
    fed = np.stack([x for x, _ in (TransformedPart(part, (5, 6))[i] for i in range(len(part)))])
    assert counts.shape == (3, 256) and counts.sum() == fed.size
    from_counts, from_arrays = Normalizer.from_counts(counts), Normalizer.fit(ArrayLike(fed))
    np.testing.assert_array_equal(from_counts.mean, from_arrays.mean)
    np.testing.assert_allclose(from_counts.std, from_arrays.std, rtol=1e-6)


class TransformedPart:
    def __init__(self, part, size):
        self.part, self.pipeline = part, T.Compose([T.Resize(size), T.ToArray()])

    def __getitem__(self, i):
        img, y = self.part[i]
        return self.pipeline(img), y


class ArrayLike:
    def __init__(self, x):
        self.x = x


def test_a_loader_with_workers_reads_an_image_folder_in_order(tmp_path):
    write_folder(tmp_path, ["a", "b"], per_class=9)
    ds = ImageFolder(tmp_path, transform=T.Compose([T.RandomHorizontalFlip(), T.ToArray()]))
    plain = [(x, y) for x, y in DataLoader(ds, 4, shuffle=True, seed=1)]
    workers = [(x, y) for x, y in DataLoader(ds, 4, shuffle=True, seed=1, num_workers=2)]
    for (xa, ya), (xb, yb) in zip(plain, workers):
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)


def test_the_course_dataset_runs_as_written(tmp_path):
    # The map-style data set of the teaching material (issue 12), verbatim apart from the imports.
    from nntrain.data import Dataset

    class MyDataset(Dataset):                       # a map-style dataset over image files
        def __init__(self, items, transform=None): self.items, self.transform = items, transform  # noqa: E701
        def __len__(self): return len(self.items)  # noqa: E301, E704
        def __getitem__(self, index):  # noqa: E301
            path, label = self.items[index]
            img = Image.open(path).convert("RGB").resize((100, 100))
            img = np.asarray(img, dtype=np.float32) / 255.0          # HWC in [0, 1]
            return img.transpose(2, 0, 1), label

    write_folder(tmp_path, ["ants", "bees"], per_class=5, size=(30, 40), mode="RGB", ext="jpg")
    train_set = MyDataset(ImageFolder(tmp_path).samples)
    train_loader = DataLoader(train_set, batch_size=4, shuffle=True, drop_last=True)
    batches = list(train_loader)
    assert len(batches) == 2 and all(x.shape == (4, 3, 100, 100) and x.dtype == np.float32 for x, _ in batches)
    assert all(y.dtype == np.int64 for _, y in batches)
    again = list(DataLoader(train_set, batch_size=4, shuffle=True, drop_last=True, num_workers=2))
    for (xa, ya), (xb, yb) in zip(batches, again):
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)


def _encoded(fmt, mode):
    import io

    pixels = np.random.default_rng(3).integers(0, 256, (12, 10) if mode == "L" else (12, 10, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, fmt)
    return out.getvalue()


ENCODED = {(fmt, mode): _encoded(fmt, mode) for fmt in ("PNG", "JPEG", "BMP", "GIF", "WEBP") for mode in ("L", "RGB")}


@settings(max_examples=150, deadline=None)
@given(which=st.sampled_from(sorted(ENCODED)), cut=st.floats(0, 1),
       flips=st.lists(st.tuples(st.floats(0, 1), st.integers(1, 255)), max_size=4))
def test_damaged_image_files_are_read_or_a_data_error_naming_them(tmp_path_factory, which, cut, flips):
    data = bytearray(ENCODED[which])
    data = data[:max(1, int(len(data) * cut))] if cut < 1 else data
    for where, xor in flips:
        data[min(int(where * len(data)), len(data) - 1)] ^= xor
    path = tmp_path_factory.mktemp("damaged") / f"image.{which[0].lower()}"
    path.write_bytes(bytes(data))
    try:
        img = read_image(path)
    except DataError as e:
        assert str(path) in str(e) and "\n" not in str(e)
    else:
        assert img.mode in ("L", "RGB") and T.ToArray()(img).shape[0] in (1, 3)
