"""An image folder as the splits of a data set.

Two layouts are read:

    shoes/train/<class>/...      shoes/test/<class>/...      (and/or shoes/val/<class>/...)
    shoes/<class>/...            one folder; test and validation parts may be carved from it at random

``image_folder_splits`` lists the files; ``inspect_images`` then decodes every image once (in parallel with
``workers``), so a damaged file, images of different sizes or an empty split is reported before training
starts, not an hour into it — and the same pass counts the training pixels' values, from which the
normalisation statistics follow exactly. ``inspect_and_keep_images`` also keeps the decoded pixels, as
training would read them, for a run that holds them in memory (image_cache.py).
"""

import os

import numpy as np

from .dataset import DataSplits, Dataset, Subset
from .errors import DataError
from .image_folder import ImageFolder, find_classes, is_image_file, read_image
from .transforms import Resize

SPLIT_FOLDERS = {"train": ("train",), "val": ("val", "valid", "validation"), "test": ("test",)}
LEVELS = 256  # values of an 8-bit channel


def _subfolders(path):
    return [e.name for e in os.scandir(path) if e.is_dir() and not e.name.startswith(".")]


def image_folder_parts(path):
    """{split: folder} if ``path`` is laid out as an image folder, else None.

    With a train/ subfolder, the split layout (val/ and test/ as present); otherwise ``path`` itself is
    the one folder, if it has subfolders holding image files.
    """
    path = os.fspath(path)
    if not os.path.isdir(path):
        return None
    names = _subfolders(path)
    if "train" in names and _subfolders(os.path.join(path, "train")):
        parts = {"train": os.path.join(path, "train")}
        for split in ("val", "test"):
            found = [n for n in SPLIT_FOLDERS[split] if n in names]
            if found:
                parts[split] = os.path.join(path, found[0])
        return parts
    for name in names:
        for _, _, files in os.walk(os.path.join(path, name)):
            if any(is_image_file(f) for f in files):
                return {"train": path}
    return None


def image_folder_splits(path, mode=None) -> DataSplits:
    """DataSplits of ImageFolders (train, and val/test as the layout has them), not yet decoded.

    Each class folder must exist in every split, and a classifier needs two classes.
    """
    path = os.fspath(path)
    parts = image_folder_parts(path)
    if parts is None:
        find_classes(path)  # says what is missing
        raise DataError(f"{path}: its class folders hold no images")
    folders = {split: ImageFolder(root, mode=mode) for split, root in parts.items()}
    train = folders["train"]
    if len(train.classes) < 2:
        raise DataError(f"{train.root}: only one class folder ({train.classes[0]}); a classifier needs at least two")
    for folder in folders.values():
        if folder.classes != train.classes:
            missing = sorted(set(train.classes) - set(folder.classes))
            extra = sorted(set(folder.classes) - set(train.classes))
            what = "; ".join(s for s in (missing and f"lacks {', '.join(missing)}",
                                         extra and f"has {', '.join(extra)}") if s)
            raise DataError(f"{folder.root}: its class folders differ from {train.root}'s ({what})")
    return DataSplits(name=os.path.basename(os.path.normpath(path)), num_classes=len(train.classes),
                      names=list(train.classes), **folders)


def folder_and_indices(part):
    """The ImageFolder under ``part`` (an ImageFolder or Subsets of one) and the sample indices it covers."""
    indices = np.arange(len(part))
    while isinstance(part, Subset):
        indices = part.indices[indices]
        part = part.dataset
    if not isinstance(part, ImageFolder):
        raise TypeError(f"inspect_images: expected ImageFolders or Subsets of them, got {type(part).__name__}")
    return part, indices


class _Inspected(Dataset):
    """For each image: (height, width, gray, value counts per channel or None, pixels or None), or why it
    cannot be read. Counted and kept pixels are those training will be fed: uint8 (H, W) or (H, W, 3), in
    ``mode`` if given (else the image's own), resized to ``size``; ``keep`` asks for them."""

    def __init__(self, paths, counted, size, keep=False, mode=None):
        self.paths, self.counted, self.keep, self.mode = paths, counted, keep, mode
        self.resize = None if size is None else Resize(size)

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, index):
        try:
            img = read_image(self.paths[index])
            height, width = img.size[1], img.size[0]
            if self.mode is not None and img.mode != self.mode and (self.keep or self.counted[index]):
                img = read_image(self.paths[index], self.mode)  # as training reads it
        except DataError as e:
            return str(e)
        counts = pixels = None
        if self.counted[index] or self.keep:
            pixels = np.asarray(img if self.resize is None else self.resize(img))
        if self.counted[index]:
            channels = 1 if pixels.ndim == 2 else pixels.shape[2]
            offsets = np.arange(channels, dtype=np.intp) * LEVELS
            counts = np.bincount((pixels.reshape(-1, channels) + offsets).ravel(), minlength=channels * LEVELS)
            counts = counts.reshape(channels, LEVELS)
        return height, width, img.mode == "L", counts, pixels if self.keep else None


class _Pixels(Dataset):
    """Each image decoded as training reads it: ``read_image`` in ``mode``, resized to ``size``, as uint8."""

    def __init__(self, paths, mode, size):
        self.paths, self.mode, self.resize = paths, mode, Resize(size)

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, index):
        return np.asarray(self.resize(read_image(self.paths[index], self.mode)))


def _collate(batch):
    """Per image (height, width, gray) or a message; the value counts summed, gray and colour apart; the
    kept pixels (or None) per image."""
    gray, colour = np.zeros((1, LEVELS), np.int64), np.zeros((3, LEVELS), np.int64)
    for item in batch:
        if not isinstance(item, str) and item[3] is not None:
            if item[2]:
                gray += item[3]
            else:
                colour += item[3]
    return ([item if isinstance(item, str) else item[:3] for item in batch], gray, colour,
            [None if isinstance(item, str) else item[4] for item in batch])


def inspect_images(splits, image_size=None, workers=0, skip_bad=False, count="train"):
    """Decodes every image of ``splits`` (ImageFolders, or Subsets of them) once and fixes what they are.

    Sets every folder's mode ("L" if all images are gray, else "RGB", unless a folder has its own) and
    ``splits.shape``; without ``image_size`` the images must share one size. An unreadable image is a
    DataError naming it — or, with ``skip_bad``, left out of its split and listed in ``splits.skipped``.
    Returns the counts of each pixel value per channel (C, 256) in the ``count`` split, as the images
    are fed (in that mode, resized to ``image_size``): what the normalisation statistics are made from.
    """
    return _inspect(splits, image_size, workers, skip_bad, count, keep=False)[0]


def inspect_and_keep_images(splits, image_size=None, workers=0, skip_bad=False, count="train"):
    """``inspect_images``, keeping what it decodes: (counts, {split: [uint8 (H, W) or (H, W, 3) per image]}),
    each image's pixels exactly as the split's ImageFolder, resized to ``splits.shape``, would feed them,
    in the split's order (unreadable images skipped with ``skip_bad`` left out, as from the split)."""
    return _inspect(splits, image_size, workers, skip_bad, count, keep=True)


def _inspect(splits, image_size, workers, skip_bad, count, keep):
    parts = {name: folder_and_indices(part) for name, part in splits.parts().items()}
    paths, counted, owners = [], [], []
    for name, (folder, indices) in parts.items():
        paths += [folder.samples[i][0] for i in indices]
        counted += [name == count] * len(indices)
        owners.append((name, len(indices)))
    from .loader import DataLoader

    size = None if image_size is None else tuple(image_size)
    modes = {folder.mode for folder, _ in parts.values()} - {None}
    given = modes.pop() if len(modes) == 1 else None
    loader = DataLoader(_Inspected(paths, counted, size, keep, given), batch_size=64, collate_fn=_collate,
                        num_workers=workers)
    results, pixels = [], []
    gray, colour = np.zeros((1, LEVELS), np.int64), np.zeros((3, LEVELS), np.int64)
    for items, g, c, kept in loader:
        results += items
        gray += g
        colour += c
        pixels += kept
    bad = [(p, r) for p, r in zip(paths, results) if isinstance(r, str)]
    if bad and not skip_bad:
        raise DataError(bad[0][1])
    good = [r for r in results if not isinstance(r, str)]
    start, readable = 0, {}
    for name, n in owners:
        readable[name] = [not isinstance(r, str) for r in results[start:start + n]]
        start += n
        if not any(readable[name]):
            raise DataError(f"{parts[name][0].root}: none of its images is readable")
        if not all(readable[name]):
            folder, indices = parts[name]
            setattr(splits, name, Subset(folder, indices[np.asarray(readable[name])]))
    mode = given or ("L" if all(gray for _, _, gray in good) else "RGB")
    if size is None:
        first = next(i for i, r in enumerate(results) if not isinstance(r, str))
        h0, w0 = results[first][:2]
        for p, r in zip(paths, results):
            if not isinstance(r, str) and r[:2] != (h0, w0):
                raise DataError(f"{p}: {r[0]}x{r[1]} pixels, but {paths[first]} has {h0}x{w0}; images must "
                                "share one size, or give an image size to resize them to (--image-size H W)")
        size = (h0, w0)
    for folder, _ in parts.values():
        folder.mode = mode
    splits.shape = (1 if mode == "L" else 3,) + size
    splits.skipped = bad
    # A gray image fed as RGB is its one channel three times: its counts add to each colour channel.
    counts = gray if mode == "L" else colour + gray
    if not keep:
        return counts, None
    return counts, _kept(paths, results, pixels, owners, readable, mode, size, workers)


def _kept(paths, results, pixels, owners, readable, mode, size, workers):
    """{split: pixels per readable image}; an image decoded in a mode other than the run's, only known now (a
    gray one among colour ones), is decoded again, in the run's mode, as training would read it."""
    from .loader import DataLoader

    again = [i for i, (r, p) in enumerate(zip(results, pixels))
             if not isinstance(r, str) and p.ndim != (2 if mode == "L" else 3)]
    if again:
        loader = DataLoader(_Pixels([paths[i] for i in again], mode, size), batch_size=64, collate_fn=list,
                            num_workers=workers)
        for i, p in zip(again, (p for batch in loader for p in batch)):
            pixels[i] = p
    kept, start = {}, 0
    for name, n in owners:
        kept[name] = [p for p, ok in zip(pixels[start:start + n], readable[name]) if ok]
        start += n
    return kept


def load_image_folder(path, image_size=None, workers=0, skip_bad=False, mode=None) -> DataSplits:
    """The image folder at ``path`` as DataSplits of ImageFolders, every image decoded once and checked."""
    splits = image_folder_splits(path, mode)
    inspect_images(splits, image_size, workers, skip_bad)
    return splits
