"""The decoded images of an image folder kept in memory (Keras' ``Dataset.cache()``, Ultralytics' ``cache=ram``).

Every run decodes each image once at start-up to check it (image_splits.inspect_images). When the decoded
images fit in memory, keeping them lets training read arrays instead of decoding every image again every
epoch — on a small machine, decoding PNGs costs more than the training step of a small network:

    data.cache_images = "auto"    keep them when, as float32, they take at most a quarter of the memory
                                  available now (MemAvailable); else stream them from the files
                    = "on"        always keep them
                    = "off"       never: workers decode every image every epoch

The kept pixels are those streaming would feed — same Pillow calls, same mode, same size — so a cached run
and a streamed one train to the same weights.
"""

import os

import numpy as np

from .dataset import ArrayDataset, Dataset
from .errors import DataError
from .image_folder import image_header
from .image_splits import folder_and_indices

CHOICES = ("auto", "on", "off")
MEMORY_SHARE = 4  # auto: the decoded images may take up to 1/4 of the available memory
FLOAT_BYTES = 4
MEMINFO = "/proc/meminfo"


def available_memory() -> int:
    """Bytes of memory available to a new allocation without swapping: MemAvailable from /proc/meminfo (Linux),
    else the free pages os.sysconf reports (0 if neither is known)."""
    try:
        with open(MEMINFO) as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, AttributeError):
        return 0


def _first_header(part):
    """(height, width, gray) of the first readable image of an ImageFolder (or Subset of one), or None."""
    folder, indices = folder_and_indices(part)
    for i in indices:
        try:
            return image_header(folder.samples[i][0])
        except DataError:
            continue
    return None


def estimated_bytes(splits, image_size=None) -> int:
    """The decoded images of every split as float32 (N x C x H x W x 4 bytes), estimated before decoding
    them: H x W is ``image_size`` or the first readable image's; C is 1 if the folders' mode is "L" or,
    with no mode set, the first image is gray, else 3 (a mixed folder of gray and colour images is fed as
    RGB, so this may count 1 channel where there will be 3: the check is 'roughly fits', not exact)."""
    n = sum(len(part) for part in splits.parts().values())
    header = _first_header(splits.train)
    if header is None:
        return 0  # nothing readable: inspecting the images will say so
    height, width, gray = header
    if image_size:
        height, width = image_size
    mode = folder_and_indices(splits.train)[0].mode
    channels = 1 if (mode == "L" or (mode is None and gray)) else 3
    return n * channels * height * width * FLOAT_BYTES


def should_cache(setting, splits, image_size=None, memory=None) -> bool:
    """Whether to keep the decoded images of ``splits`` in memory, for ``data.cache_images`` = ``setting``.
    ``memory`` (a function returning bytes) defaults to ``available_memory``."""
    if setting not in CHOICES:
        raise ValueError(f"cache_images must be one of {', '.join(CHOICES)}, got {setting!r}")
    if setting != "auto":
        return setting == "on"
    return estimated_bytes(splits, image_size) * MEMORY_SHARE <= (memory or available_memory)()


def image_arrays(images, labels, shape, name, classes, class_names) -> ArrayDataset:
    """The kept uint8 images (H, W[, C]) as an ArrayDataset of float32 (N, C, H, W) = bytes / 255: the numbers
    ImageBatch makes of the same images. ``images`` is emptied as it is copied, so the uint8 and float32
    copies are not both held whole."""
    x = np.empty((len(images),) + tuple(shape), np.float32)
    step = 1024
    for start in range(0, len(images), step):
        chunk = np.stack(images[start:start + step])
        images[start:start + step] = [None] * len(chunk)
        if chunk.ndim == 3:
            chunk = chunk[:, :, :, None]
        x[start:start + len(chunk)] = chunk.transpose(0, 3, 1, 2)
    images.clear()
    np.divide(x, np.float32(255), out=x)
    return ArrayDataset(x, np.asarray(labels, np.int64), classes=classes, name=name, class_names=class_names)


class DecodedImages(Dataset):
    """Kept uint8 images as the PIL images an ImageFolder would give (mode "L" or "RGB"), with their labels:
    for transforms whose PIL and array versions differ in rounding (ColorJitter), so that the kept images
    are augmented exactly as the files would be."""

    def __init__(self, images, labels):
        self.images, self.labels = images, np.asarray(labels, np.int64)

    def __len__(self):
        return len(self.images)

    def __getitem__(self, index):
        from PIL import Image

        return Image.fromarray(self.images[index]), int(self.labels[index])


def labels_of(part):
    """The class index of each example of an ImageFolder or a Subset of one, in order, without reading images."""
    folder, indices = folder_and_indices(part)
    return [folder.samples[i][1] for i in indices]
