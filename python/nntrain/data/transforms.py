"""Image transforms with torchvision's names, arguments and semantics.

Each takes a PIL image or a NumPy array laid out (C, H, W) — or (H, W) — as ``ToArray`` makes them, and
returns the same kind. On PIL images the work is Pillow's, as in torchvision; on arrays, geometric
transforms run Pillow's filters channel by channel in float (mode "F") and the colour ones follow
torchvision's tensor formulas (values in [0, 1]).

    transform = Compose([RandomCrop(28, padding=2), RandomHorizontalFlip(), ToArray(), Normalize([0.29], [0.35])])

Random transforms draw from ``sample_rng()``: inside a DataLoader, a generator seeded by (seed, epoch,
index) of the example, so augmentation repeats, resumes, and does not depend on the number of workers.
"""

import numbers

import numpy as np

from .image_ops import (adjust_brightness, adjust_contrast, as_chw, crop, float_chw, gray, image_module, image_size,
                        is_pil, padding_ltrb, per_channel, resample, size_pair)
from .sample_rng import manual_seed, sample_rng

INTERPOLATIONS = ("nearest", "bilinear", "bicubic", "lanczos", "box", "hamming")


class Compose:
    """The transforms one after another."""

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, img):
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self):
        return "Compose([" + ", ".join(map(repr, self.transforms)) + "])"


class Resize:
    """To ``size`` (height, width); an int sets the smaller edge and keeps the aspect ratio. Pillow's
    filters, antialiased when shrinking, as torchvision's on PIL images."""

    def __init__(self, size, interpolation="bilinear"):
        if isinstance(size, numbers.Integral) and not isinstance(size, bool):
            if size < 1:
                raise ValueError(f"Resize: size must be positive, got {size}")
            self.size = int(size)
        else:
            self.size = size_pair(size, "Resize")
        resample(interpolation)
        self.interpolation = interpolation

    def output_size(self, height, width):
        if not isinstance(self.size, int):
            return self.size
        short, long = (width, height) if width <= height else (height, width)
        new_short, new_long = self.size, int(self.size * long / short)
        return (new_long, new_short) if width <= height else (new_short, new_long)

    def __call__(self, img):
        h, w = image_size(img)
        oh, ow = self.output_size(h, w)
        if (oh, ow) == (h, w):
            return img
        method = resample(self.interpolation)
        if is_pil(img):
            return img.resize((ow, oh), method)
        return per_channel(as_chw(img, "Resize"), lambda c: c.resize((ow, oh), method))

    def __repr__(self):
        return f"Resize({self.size}, interpolation={self.interpolation!r})"


class CenterCrop:
    """The central ``size`` (height, width) region; an image smaller than that is padded with zeros."""

    def __init__(self, size):
        self.size = size_pair(size, "CenterCrop")

    def __call__(self, img):
        h, w = image_size(img)
        th, tw = self.size
        # torchvision pads a smaller image symmetrically (the odd pixel after), then crops at round(half)
        top = -((th - h) // 2) if th > h else int(round((h - th) / 2.0))
        left = -((tw - w) // 2) if tw > w else int(round((w - tw) / 2.0))
        return crop(img, top, left, th, tw)

    def __repr__(self):
        return f"CenterCrop({self.size})"


class RandomCrop:
    """A ``size`` region at a random place, after padding the image by ``padding`` pixels of ``fill``
    (and, with ``pad_if_needed``, enough more to fit ``size``)."""

    def __init__(self, size, padding=None, pad_if_needed=False, fill=0):
        self.size = size_pair(size, "RandomCrop")
        self.padding = padding_ltrb(padding)
        self.pad_if_needed, self.fill = pad_if_needed, fill

    def __call__(self, img):
        h, w = image_size(img)
        left, top, right, bottom = self.padding
        th, tw = self.size
        if self.pad_if_needed and w + left + right < tw:
            right += tw - (w + left + right)
        if self.pad_if_needed and h + top + bottom < th:
            bottom += th - (h + top + bottom)
        ph, pw = h + top + bottom, w + left + right
        if ph < th or pw < tw:
            raise ValueError(f"RandomCrop: crop size {(th, tw)} is larger than the (padded) image {(ph, pw)}")
        i = j = 0
        if (ph, pw) != (th, tw):
            rng = sample_rng()
            i, j = int(rng.integers(0, ph - th + 1)), int(rng.integers(0, pw - tw + 1))
        return crop(img, i - top, j - left, th, tw, self.fill)

    def __repr__(self):
        return f"RandomCrop({self.size}, padding={self.padding})"


class RandomHorizontalFlip:
    """Mirrored left to right with probability ``p``."""

    def __init__(self, p=0.5):
        self.p = float(p)

    def __call__(self, img):
        if sample_rng().random() >= self.p:
            return img
        if is_pil(img):
            return img.transpose(image_module().Transpose.FLIP_LEFT_RIGHT)
        return as_chw(img, "RandomHorizontalFlip")[..., ::-1]

    def __repr__(self):
        return f"RandomHorizontalFlip(p={self.p})"


class RandomRotation:
    """Rotated by an angle drawn uniformly from (-degrees, degrees) (or the given (min, max)),
    counter-clockwise, about the centre; corners outside the image get ``fill``."""

    def __init__(self, degrees, interpolation="nearest", expand=False, center=None, fill=0):
        if isinstance(degrees, numbers.Real):
            if degrees < 0:
                raise ValueError(f"RandomRotation: degrees must be non-negative, got {degrees}")
            degrees = (-degrees, degrees)
        self.degrees = tuple(float(d) for d in degrees)
        if len(self.degrees) != 2:
            raise ValueError(f"RandomRotation: degrees must be a number or (min, max), got {degrees!r}")
        resample(interpolation)
        self.interpolation, self.expand, self.center, self.fill = interpolation, expand, center, fill

    def __call__(self, img):
        angle = float(sample_rng().uniform(*self.degrees))
        method = resample(self.interpolation)

        def rotate(image):
            return image.rotate(angle, method, self.expand, self.center, fillcolor=self.fill)

        if is_pil(img):
            return rotate(img)
        return per_channel(as_chw(img, "RandomRotation"), rotate)

    def __repr__(self):
        return f"RandomRotation({self.degrees}, interpolation={self.interpolation!r})"


def _factor_range(value, name):
    if value is None or value == 0:
        return None
    if isinstance(value, numbers.Real):
        if value < 0:
            raise ValueError(f"ColorJitter: {name} must be non-negative, got {value}")
        return max(0.0, 1.0 - value), 1.0 + value
    low, high = (float(v) for v in value)
    if not 0 <= low <= high:
        raise ValueError(f"ColorJitter: {name} range must satisfy 0 <= min <= max, got {value!r}")
    return low, high


class ColorJitter:
    """Brightness and contrast scaled by factors drawn uniformly from [max(0, 1 - v), 1 + v] (or a given
    (min, max)), applied in a random order, as torchvision does."""

    def __init__(self, brightness=0, contrast=0):
        self.brightness = _factor_range(brightness, "brightness")
        self.contrast = _factor_range(contrast, "contrast")

    def __call__(self, img):
        rng = sample_rng()
        order = rng.permutation(2)
        b = None if self.brightness is None else float(rng.uniform(*self.brightness))
        c = None if self.contrast is None else float(rng.uniform(*self.contrast))
        for which in order:
            if which == 0 and b is not None:
                img = adjust_brightness(img, b)
            elif which == 1 and c is not None:
                img = adjust_contrast(img, c)
        return img

    def __repr__(self):
        return f"ColorJitter(brightness={self.brightness}, contrast={self.contrast})"


class Grayscale:
    """One luma channel (ITU-R 601-2, as Pillow's "L" and torchvision), or that channel three times."""

    def __init__(self, num_output_channels=1):
        if num_output_channels not in (1, 3):
            raise ValueError(f"Grayscale: num_output_channels must be 1 or 3, got {num_output_channels}")
        self.num_output_channels = num_output_channels

    def __call__(self, img):
        if is_pil(img):
            luma = img.convert("L")
            return luma if self.num_output_channels == 1 else luma.convert("RGB")
        luma = gray(float_chw(img, "Grayscale"))
        return luma if self.num_output_channels == 1 else np.repeat(luma, 3, axis=0)

    def __repr__(self):
        return f"Grayscale(num_output_channels={self.num_output_channels})"


class ToArray:
    """A PIL image, or an (H, W[, C]) array, as float32 (C, H, W): bytes scaled to [0, 1] (x / 255),
    mode "1" to 0 or 1, other types converted unscaled (torchvision's ToTensor)."""

    def __call__(self, img):
        x = np.asarray(img)
        if x.ndim == 2:
            x = x[:, :, None]
        if x.ndim != 3:
            raise TypeError(f"ToArray: expected a PIL image or an (H, W[, C]) array, got shape {x.shape}")
        x = x.transpose(2, 0, 1)
        if x.dtype == np.uint8:
            return np.ascontiguousarray(x, dtype=np.float32) / 255
        return np.ascontiguousarray(x, dtype=np.float32)

    def __repr__(self):
        return "ToArray()"


class Normalize:
    """x' = (x - mean[c]) / std[c] on a float array (C, H, W)."""

    def __init__(self, mean, std):
        self.mean = np.asarray(mean, dtype=np.float32).reshape(-1)
        self.std = np.asarray(std, dtype=np.float32).reshape(-1)
        if self.mean.shape != self.std.shape:
            raise ValueError(f"Normalize: {len(self.mean)} means but {len(self.std)} stds")
        if not (self.std > 0).all():
            raise ValueError(f"Normalize: every std must be positive, got {self.std.tolist()}")

    def __call__(self, img):
        x = float_chw(img, "Normalize")
        if len(self.mean) not in (1, x.shape[0]):
            raise ValueError(f"Normalize: {len(self.mean)} means for an image of {x.shape[0]} channels")
        return (x - self.mean[:, None, None]) / self.std[:, None, None]

    def __repr__(self):
        return f"Normalize(mean={self.mean.tolist()}, std={self.std.tolist()})"


__all__ = ["CenterCrop", "ColorJitter", "Compose", "Grayscale", "Normalize", "RandomCrop", "RandomHorizontalFlip",
           "RandomRotation", "Resize", "ToArray", "adjust_brightness", "adjust_contrast", "image_size",
           "manual_seed", "sample_rng"]
