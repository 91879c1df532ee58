"""An image folder as the splits of a data set.

Two layouts are read:

    shoes/train/<class>/...      shoes/test/<class>/...      (and/or shoes/val/<class>/...)
    shoes/<class>/...            one folder; its test and validation parts are carved at random

Every image is decoded once up front (in parallel with ``workers``), so a damaged file, images of different
sizes or a colour image among gray ones is reported before training starts, not an hour into it.
"""

import os

from .dataset import DataSplits
from .errors import DataError
from .image_folder import ImageFolder, find_classes, is_image_file, scan_images

SPLIT_FOLDERS = {"train": ("train",), "val": ("val", "valid", "validation"), "test": ("test",)}


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


def load_image_folder(path, image_size=None, workers=0, skip_bad=False, mode=None):
    """DataSplits of ImageFolders (train, and val/test as the layout has them), all checked.

    All images are converted to one ``mode``: by default "L" if every one is gray, else "RGB". Without
    ``image_size`` they must share one size. Each class folder must exist in every split; a classifier needs two classes.
    With ``skip_bad``, unreadable images are left out and listed in the returned splits' ``skipped``.
    """
    path = os.fspath(path)
    parts = image_folder_parts(path)
    if parts is None:
        find_classes(path)  # says what is missing
        raise DataError(f"{path}: its class folders hold no images")
    folders = {split: ImageFolder(root) for split, root in parts.items()}
    train = folders["train"]
    if len(train.classes) < 2:
        raise DataError(f"{train.root}: only one class folder ({train.classes[0]}); a classifier needs at least two")
    for folder in folders.values():
        if folder.classes != train.classes:
            missing = sorted(set(train.classes) - set(folder.classes))
            extra = sorted(set(folder.classes) - set(train.classes))
            what = "; ".join(s for s in (missing and f"lacks {', '.join(missing)}", extra and
                                         f"has {', '.join(extra)} not in {train.root}") if s)
            raise DataError(f"{folder.root}: its class folders differ from {train.root}'s ({what})")
    skipped = []
    shapes = []  # (height, width, gray, path)
    for folder in folders.values():
        results = scan_images([p for p, _ in folder.samples], workers)
        bad = [(p, r) for (p, _), r in zip(folder.samples, results) if isinstance(r, str)]
        if bad and not skip_bad:
            raise DataError(bad[0][1])
        skipped += bad
        folder.samples = [s for s, r in zip(folder.samples, results) if not isinstance(r, str)]
        folder.targets = [t for _, t in folder.samples]
        if not folder.samples:
            raise DataError(f"{folder.root}: none of its {len(bad)} images is readable")
        shapes += [(*r, p) for (p, _), r in zip(folder.samples, results) if not isinstance(r, str)]
    mode = mode or ("L" if all(gray for _, _, gray, _ in shapes) else "RGB")
    if image_size is None:
        h0, w0, _, first = shapes[0]
        for h, w, _, p in shapes:
            if (h, w) != (h0, w0):
                raise DataError(f"{p}: {h}x{w} pixels, but {first} has {h0}x{w0}; images must share one size, "
                                "or give an image size to resize them to (--image-size H W)")
        image_size = (h0, w0)
    for folder in folders.values():
        folder.mode = mode
    channels = 1 if mode == "L" else 3
    name = os.path.basename(os.path.normpath(path))
    return DataSplits(name=name, num_classes=len(train.classes), names=list(train.classes),
                      shape=(channels,) + tuple(image_size), skipped=skipped, **folders)
