"""The data of a run, as its configuration asks: read, split, normalised, augmented, ready to batch.

    arrays (digits, IDX, CIFAR-10, .npz, .csv)        image folders
    read whole into memory                            listed
    test, then val, carved at random from train       the same, as index subsets
    a Normalizer fitted on train                      every image decoded once to check it, counting the
                                                      values of train's pixels: the Normalizer, exactly
                                                      and, when they fit in memory (data.cache_images),
                                                      the decoded images kept: arrays from then on
    val and test normalised once; train too, or,      else each example decoded, resized and augmented
    when augmented, example by example                (train only) when fetched; each batch scaled to
                                                      [0, 1] and normalised as a whole (ImageBatch)

The same pixels give the same numbers either way: a folder of PNGs written from an array data set trains
to the same weights as the arrays themselves, kept in memory or read from the files every epoch.
"""

from dataclasses import replace

import numpy as np

from .config import ConfigError
from .data import ArrayDataset, DataLoader, Normalizer, find_dataset, load_path, split
from .data import transforms as T
from .data.augment import ARRAY_ROUNDING, augmentation
from .data.dataset import TransformedDataset
from .data.image_cache import DecodedImages, image_arrays, labels_of, should_cache
from .data.image_splits import image_folder_parts, image_folder_splits, inspect_and_keep_images, inspect_images

EVAL_BATCH = 256  # examples per evaluation batch fetched from files


def read_data(config, input_shape=None):
    """The configured data as stored, with test and validation parts carved as configured: DataSplits of
    ArrayDatasets, or of ImageFolders (listed, not yet decoded: see load_data).

    ``input_shape`` (C, H, W) of a trained model makes an image folder read in its mode and size.
    """
    d = config["data"]
    if config["training"]["task"] == "regression":
        if not d["path"]:
            raise ConfigError(f"--task regression reads float targets from an .npz or .csv given with --data; "
                              f"{d['name']} holds class labels")
        return carve(load_path(d["path"], regression=True), config)
    if d["path"] and image_folder_parts(d["path"]):
        mode = None if input_shape is None else ("L" if input_shape[0] == 1 else "RGB")
        return carve(image_folder_splits(d["path"], mode), config)
    if d["image_size"]:
        raise ConfigError("'data.image_size' resizes images read from an image folder; "
                          f"{d['path'] or d['name']} is not one")
    return carve(load_path(d["path"]) if d["path"] else find_dataset(d["name"]), config)


def carve(splits, config):
    """Test, then validation examples drawn at random (from the run's seed) out of train, as configured,
    when the data has no such split of its own."""
    d, seed = config["data"], config["seed"]
    if splits.test is None and d["test_split"] > 0:
        splits.train, splits.test = split(splits.train, d["test_split"], seed=np.random.default_rng([seed, 1]),
                                          names=("train", "test"))
    if splits.val is None and d["val_split"] > 0:
        splits.train, splits.val = split(splits.train, d["val_split"], seed=seed)
    return splits


def load_data(config, normalizer=None, input_shape=None, memory=None):
    """(splits ready to batch, the Normalizer or None): fitted on train when ``data.normalize`` is set and
    none is given. ``input_shape`` is that of a trained model (see read_data); ``memory`` (bytes available,
    a function) decides ``data.cache_images = auto`` (see data/image_cache.py)."""
    d = config["data"]
    splits = read_data(config, input_shape)
    if not d["normalize"]:
        normalizer = None
    if isinstance(splits.train, ArrayDataset):
        return _arrays(splits, normalizer, d)
    size = tuple(input_shape[1:]) if input_shape is not None else tuple(d["image_size"]) or None
    if not should_cache(d["cache_images"], splits, size, memory):
        counts = inspect_images(splits, size, d["workers"], d["skip_bad"])
        normalizer = _from_counts(counts, normalizer, d)
        return _images(splits, normalizer, d)
    counts, kept = inspect_and_keep_images(splits, size, d["workers"], d["skip_bad"])
    normalizer = _from_counts(counts, normalizer, d)
    if any(name in ARRAY_ROUNDING for name in d["augment"]):
        # augmented as PIL images, as from the files: the same rounding to bytes
        for name, part in splits.parts().items():
            setattr(splits, name, DecodedImages(kept.pop(name), labels_of(part)))
        return _images(splits, normalizer, d)
    for name, part in splits.parts().items():
        setattr(splits, name, image_arrays(kept.pop(name), labels_of(part), splits.input_shape,
                                           f"{splits.name} {name}", splits.classes, splits.class_names))
    return _arrays(splits, normalizer, d)


def _from_counts(counts, normalizer, d):
    return Normalizer.from_counts(counts) if d["normalize"] and normalizer is None else normalizer


def _augmentation(splits, names):
    if not names:
        return []
    shape = splits.input_shape
    if len(shape) != 3:
        raise ConfigError(f"'data.augment' changes images (C, H, W), but {splits.name} holds examples of {shape}")
    return augmentation(names, shape[1], shape[2])


def _arrays(splits, normalizer, d):
    if d["normalize"] and normalizer is None:
        normalizer = Normalizer.fit(splits.train)
    augment = _augmentation(splits, d["augment"])
    for part in ("val", "test"):
        if getattr(splits, part) is not None and normalizer is not None:
            setattr(splits, part, normalizer(getattr(splits, part)))
    train = splits.train
    if augment:  # augment the stored pixels, then normalise: padding is black, as for image files
        steps = augment + ([T.Normalize(normalizer.mean, normalizer.std)] if normalizer is not None else [])
        splits.train = replace(train, transform=T.Compose(steps))
    elif normalizer is not None:
        splits.train = normalizer(train)
    return splits, normalizer


def _images(splits, normalizer, d):
    _, h, w = splits.input_shape
    decode = [T.Resize((h, w))]  # a no-op for images already of that size
    augment = _augmentation(splits, d["augment"])
    splits.train = TransformedDataset(splits.train, T.Compose(decode + augment + [np.asarray]))
    for part in ("val", "test"):
        if getattr(splits, part) is not None:
            setattr(splits, part, TransformedDataset(getattr(splits, part), T.Compose(decode + [np.asarray])))
    splits.collate_fn = ImageBatch(normalizer)
    return splits, normalizer


class ImageBatch:
    """Collates examples (an 8-bit image as an (H, W[, C]) array, its label) into float32 (B, C, H, W) in
    [0, 1], normalised: ToArray and Normalize once per batch rather than once per example — the same
    numbers at a tenth of the cost."""

    def __init__(self, normalizer=None):
        self.normalizer = normalizer

    def __call__(self, examples):
        images = np.stack([image for image, _ in examples])
        if images.ndim == 3:
            images = images[:, :, :, None]
        x = np.ascontiguousarray(images.transpose(0, 3, 1, 2), dtype=np.float32) / 255
        if self.normalizer is not None:
            x = self.normalizer.apply(x)
        return x, np.array([label for _, label in examples], dtype=np.int64)


def eval_batches(dataset, collate_fn=None, workers=0, worker_type="process"):
    """What ``train.evaluate`` takes: an ArrayDataset as it is, any other data set as a DataLoader."""
    if dataset is None or isinstance(dataset, ArrayDataset):
        return dataset
    return DataLoader(dataset, batch_size=EVAL_BATCH, collate_fn=collate_fn, num_workers=workers,
                      worker_type=worker_type)
