"""Folders of images, one subfolder per class (torchvision's ImageFolder), read through Pillow.

    root/cat/001.png
    root/cat/kitten.jpg
    root/dog/a/002.webp        (subfolders of a class folder belong to that class)

Classes are the subfolder names, sorted; hidden folders and files (.ipynb_checkpoints, .DS_Store) are not
data. A file that is not an image, a class folder with no images, and an image Pillow cannot read are
DataErrors naming the file or folder: never a crash, never a silent skip (``skip_bad=True`` skips unreadable
images, and lists them in ``skipped``).
"""

import os

import numpy as np

from .dataset import Dataset
from .errors import DataError

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm", ".pgm")
IGNORED_FILES = ("Thumbs.db", "desktop.ini")
GRAY_MODES = ("1", "L", "LA", "I", "I;16", "I;16L", "I;16B", "I;16N", "F")
MODES = ("L", "RGB")


def is_image_file(name) -> bool:
    return name.lower().endswith(IMAGE_EXTENSIONS)


def _reason(error):
    return " ".join(str(error).split()) or type(error).__name__


def _open(path, use):
    """``use(image)`` on the PIL image at ``path`` while its file is open; DataError naming the file if
    Pillow cannot read it."""
    from PIL import Image, UnidentifiedImageError

    try:
        with open(path, "rb") as f:
            return use(Image.open(f))
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a folder, not an image") from None
    except UnidentifiedImageError:
        raise DataError(f"{path}: not a readable image (Pillow cannot identify it)") from None
    except Exception as e:  # truncated data, bad checksums, decoder errors: each plugin fails its own way
        raise DataError(f"{path}: truncated or corrupt image ({_reason(e)})") from None


def image_header(path):
    """(height, width, gray) of the image at ``path`` from its header alone (a palette image is decoded)."""
    return _open(path, lambda img: (img.size[1], img.size[0], is_gray(img)))


def is_gray(img) -> bool:
    """Whether a PIL image holds no colour: a gray mode, or a palette of grays only."""
    if img.mode in GRAY_MODES:
        return True
    if img.mode == "P":
        palette = np.asarray(img.getpalette() or [], dtype=np.int16)
        rgb = palette[:len(palette) // 3 * 3].reshape(-1, 3)
        return bool((rgb == rgb[:, :1]).all())
    return False


def read_image(path, mode=None):
    """The image at ``path``, decoded, in ``mode`` "L" (gray) or "RGB" — by default, "L" for a gray
    image and "RGB" for any other (alpha dropped, palettes expanded, 16-bit gray scaled to 8 bits)."""
    if mode is not None and mode not in MODES:
        raise ValueError(f"read_image: mode must be one of {', '.join(MODES)} or None, got {mode!r}")
    from PIL import Image

    def decode(img):
        img.load()  # the pixels now live in memory: closing the file leaves the image whole
        return img

    img = _open(path, decode)
    if img.mode.startswith("I"):  # 16-bit gray: 0..65535 -> 0..255 (Pillow's own convert would clip)
        img = Image.fromarray(np.clip(np.rint(np.asarray(img, dtype=np.float64) / 257), 0, 255).astype(np.uint8))
    target = mode or ("L" if is_gray(img) else "RGB")
    return img if img.mode == target else img.convert(target)


def find_classes(root):
    """(sorted class names, {name: index}) from the subfolders of ``root``."""
    root = os.fspath(root)
    if not os.path.isdir(root):
        raise DataError(f"{root}: no such folder")
    names = sorted(e.name for e in os.scandir(root) if e.is_dir() and not e.name.startswith("."))
    if not names:
        raise DataError(f"{root}: no class folders (an image folder holds one subfolder of images per class)")
    return names, {name: i for i, name in enumerate(names)}


def make_samples(root, class_to_idx):
    """[(path, class index)], class by class, files sorted, as torchvision lists them."""
    samples = []
    for name in sorted(class_to_idx):
        folder = os.path.join(root, name)
        found = 0
        for directory, subdirs, files in sorted(os.walk(folder, followlinks=True)):
            subdirs[:] = sorted(d for d in subdirs if not d.startswith("."))
            for f in sorted(files):
                if f.startswith(".") or f in IGNORED_FILES:
                    continue
                path = os.path.join(directory, f)
                if not is_image_file(f):
                    raise DataError(f"{path}: not an image file (an image folder holds only "
                                    f"{', '.join(IMAGE_EXTENSIONS)} files)")
                samples.append((path, class_to_idx[name]))
                found += 1
        if not found:
            raise DataError(f"{folder}: class folder holds no images")
    return samples


class ImageFolder(Dataset):
    """Labelled images from a folder with one subfolder per class.

    ``ds[i]`` is ``(transform(image), target_transform(class index))``; the image is a PIL image in
    ``mode`` ("L", "RGB", or None: each image gray or RGB as it is). Attributes as torchvision's:
    ``classes`` (sorted names), ``class_to_idx``, ``samples`` [(path, index)], ``targets``.
    """

    def __init__(self, root, transform=None, target_transform=None, mode=None, skip_bad=False):
        if mode is not None and mode not in MODES:
            raise ValueError(f"ImageFolder: mode must be one of {', '.join(MODES)} or None, got {mode!r}")
        self.root = os.fspath(root)
        self.transform, self.target_transform, self.mode = transform, target_transform, mode
        self.classes, self.class_to_idx = find_classes(self.root)
        self.samples = make_samples(self.root, self.class_to_idx)
        self.skipped = []  # [(path, reason)] of images skipped with skip_bad
        if skip_bad:
            self._drop_unreadable()
        self.targets = [t for _, t in self.samples]

    def __len__(self):
        return len(self.samples)

    def __getitem__(self, index):
        path, target = self.samples[index]
        img = read_image(path, self.mode)
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def _drop_unreadable(self):
        results = scan_images([p for p, _ in self.samples])
        self.skipped = [(p, r) for (p, _), r in zip(self.samples, results) if isinstance(r, str)]
        self.samples = [s for s, r in zip(self.samples, results) if not isinstance(r, str)]
        if not self.samples:
            raise DataError(f"{self.root}: none of its {len(self.skipped)} images is readable")

    def __repr__(self):
        return f"ImageFolder({self.root!r}, {len(self)} images of {len(self.classes)} classes)"


def scan_images(paths, workers=0):
    """For each path, (height, width, gray) of the image, decoded in full — or, for one that cannot be, the
    one-line DataError message naming it. ``workers`` processes decode in parallel."""
    from .image_splits import _Inspected  # (image_splits builds on this module)
    from .loader import DataLoader

    paths = list(paths)
    inspected = _Inspected(paths, counted=[False] * len(paths), size=None)
    loader = DataLoader(inspected, batch_size=64, collate_fn=list, num_workers=workers)
    return [result if isinstance(result, str) else result[:3] for batch in loader for result in batch]
