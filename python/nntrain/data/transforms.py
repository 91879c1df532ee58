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

from .sample_rng import manual_seed, sample_rng

INTERPOLATIONS = ("nearest", "bilinear", "bicubic", "lanczos", "box", "hamming")


def _image_module():
    from PIL import Image

    return Image


def _is_pil(img):
    # A PIL image without importing Pillow for arrays: anything PIL made is a PIL.Image.Image.
    return type(img).__module__.startswith("PIL.")


def _resample(name):
    if name not in INTERPOLATIONS:
        raise ValueError(f"interpolation must be one of {', '.join(INTERPOLATIONS)}, got {name!r}")
    return getattr(_image_module().Resampling, name.upper())


def _size_pair(size, what):
    if isinstance(size, numbers.Integral) and not isinstance(size, bool):
        size = (int(size), int(size))
    size = tuple(size)
    if len(size) != 2 or not all(isinstance(s, numbers.Integral) and not isinstance(s, bool) and s > 0 for s in size):
        raise ValueError(f"{what}: size must be a positive integer or (height, width), got {size!r}")
    return int(size[0]), int(size[1])


def _array(img, what):
    """A float or integer array (C, H, W) — a 2-D (H, W) one gains the channel axis."""
    x = np.asarray(img)
    if x.ndim == 2:
        x = x[None]
    if x.ndim != 3:
        raise TypeError(f"{what}: expected a PIL image or an array (C, H, W), got shape {x.shape}")
    return x


def image_size(img):
    """(height, width) of a PIL image or of an array (C, H, W) / (H, W)."""
    if _is_pil(img):
        return img.size[1], img.size[0]
    return np.shape(img)[-2:]


def _per_channel(x, op):
    """``op`` (PIL image -> PIL image) applied to each channel of x (C, H, W) as a float image."""
    Image = _image_module()
    channels = [np.asarray(op(Image.fromarray(np.ascontiguousarray(c, dtype=np.float32)))) for c in x]
    return np.stack(channels).astype(np.float32, copy=False)


def _crop_array(x, top, left, height, width, fill=0):
    """x[:, top:top+height, left:left+width], with ``fill`` wherever the box lies outside x."""
    _, h, w = x.shape
    if 0 <= top and top + height <= h and 0 <= left and left + width <= w:
        return x[:, top:top + height, left:left + width]
    out = np.full((x.shape[0], height, width), fill, dtype=x.dtype)
    t0, l0 = max(top, 0), max(left, 0)
    t1, l1 = min(top + height, h), min(left + width, w)
    if t0 < t1 and l0 < l1:
        out[:, t0 - top:t1 - top, l0 - left:l1 - left] = x[:, t0:t1, l0:l1]
    return out


def _crop(img, top, left, height, width, fill=0):
    if not _is_pil(img):
        return _crop_array(_array(img, "crop"), top, left, height, width, fill)
    w, h = img.size
    outside = (max(0, -left), max(0, -top), max(0, left + width - w), max(0, top + height - h))
    if fill != 0 and any(outside):  # PIL's crop fills outside the image with 0; pad with fill first
        from PIL import ImageOps

        img = ImageOps.expand(img, border=outside, fill=fill)
        left, top = left + outside[0], top + outside[1]
    return img.crop((left, top, left + width, top + height))


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
            self.size = _size_pair(size, "Resize")
        _resample(interpolation)
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
        resample = _resample(self.interpolation)
        if _is_pil(img):
            return img.resize((ow, oh), resample)
        return _per_channel(_array(img, "Resize"), lambda c: c.resize((ow, oh), resample))

    def __repr__(self):
        return f"Resize({self.size}, interpolation={self.interpolation!r})"


class CenterCrop:
    """The central ``size`` (height, width) region; an image smaller than that is padded with zeros."""

    def __init__(self, size):
        self.size = _size_pair(size, "CenterCrop")

    def __call__(self, img):
        h, w = image_size(img)
        th, tw = self.size
        # torchvision pads a smaller image symmetrically (the odd pixel after), then crops at round(half)
        top = -((th - h) // 2) if th > h else int(round((h - th) / 2.0))
        left = -((tw - w) // 2) if tw > w else int(round((w - tw) / 2.0))
        return _crop(img, top, left, th, tw)

    def __repr__(self):
        return f"CenterCrop({self.size})"


def _padding(padding):
    """(left, top, right, bottom) from an int, (left/right, top/bottom) or (left, top, right, bottom)."""
    if padding is None:
        return 0, 0, 0, 0
    if isinstance(padding, numbers.Integral):
        padding = (padding,) * 4
    padding = tuple(int(p) for p in padding)
    if len(padding) == 2:
        padding = padding * 2
    if len(padding) != 4 or min(padding) < 0:
        raise ValueError(f"padding must be a non-negative int or a sequence of 2 or 4 of them, got {padding!r}")
    return padding


class RandomCrop:
    """A ``size`` region at a random place, after padding the image by ``padding`` pixels of ``fill``
    (and, with ``pad_if_needed``, enough more to fit ``size``)."""

    def __init__(self, size, padding=None, pad_if_needed=False, fill=0):
        self.size = _size_pair(size, "RandomCrop")
        self.padding = _padding(padding)
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
        return _crop(img, i - top, j - left, th, tw, self.fill)

    def __repr__(self):
        return f"RandomCrop({self.size}, padding={self.padding})"


class RandomHorizontalFlip:
    """Mirrored left to right with probability ``p``."""

    def __init__(self, p=0.5):
        self.p = float(p)

    def __call__(self, img):
        if sample_rng().random() >= self.p:
            return img
        if _is_pil(img):
            return img.transpose(_image_module().Transpose.FLIP_LEFT_RIGHT)
        return _array(img, "RandomHorizontalFlip")[..., ::-1]

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
        _resample(interpolation)
        self.interpolation, self.expand, self.center, self.fill = interpolation, expand, center, fill

    def __call__(self, img):
        angle = float(sample_rng().uniform(*self.degrees))
        resample = _resample(self.interpolation)

        def rotate(image):
            return image.rotate(angle, resample, self.expand, self.center, fillcolor=self.fill)

        if _is_pil(img):
            return rotate(img)
        return _per_channel(_array(img, "RandomRotation"), rotate)

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


GRAY_WEIGHTS = (0.2989, 0.587, 0.114)  # torchvision's luma weights for tensors


def _gray(x):
    """The luma of x (C, H, W) as (1, H, W): the channel itself for one channel."""
    if x.shape[0] == 1:
        return x
    if x.shape[0] != 3:
        raise ValueError(f"grayscale needs 1 or 3 channels, got {x.shape[0]}")
    r, g, b = x.astype(np.float32, copy=False)
    return (GRAY_WEIGHTS[0] * r + GRAY_WEIGHTS[1] * g + GRAY_WEIGHTS[2] * b)[None]


def _float_array(img, what):
    x = _array(img, what)
    if x.dtype.kind != "f":
        raise TypeError(f"{what}: arrays must hold floats in [0, 1] (apply ToArray first), got {x.dtype}")
    return x


def adjust_brightness(img, factor):
    if _is_pil(img):
        from PIL import ImageEnhance

        return ImageEnhance.Brightness(img).enhance(factor)
    x = _float_array(img, "adjust_brightness")
    return np.clip(x * np.float32(factor), 0, 1)


def adjust_contrast(img, factor):
    if _is_pil(img):
        from PIL import ImageEnhance

        return ImageEnhance.Contrast(img).enhance(factor)
    x = _float_array(img, "adjust_contrast")
    mean = np.float32(_gray(x).mean())
    return np.clip(np.float32(factor) * x + np.float32(1 - factor) * mean, 0, 1)


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
        if _is_pil(img):
            gray = img.convert("L")
            return gray if self.num_output_channels == 1 else gray.convert("RGB")
        gray = _gray(_float_array(img, "Grayscale"))
        return gray if self.num_output_channels == 1 else np.repeat(gray, 3, axis=0)

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
        x = _float_array(img, "Normalize")
        if len(self.mean) not in (1, x.shape[0]):
            raise ValueError(f"Normalize: {len(self.mean)} means for an image of {x.shape[0]} channels")
        return (x - self.mean[:, None, None]) / self.std[:, None, None]

    def __repr__(self):
        return f"Normalize(mean={self.mean.tolist()}, std={self.std.tolist()})"


__all__ = ["CenterCrop", "ColorJitter", "Compose", "Grayscale", "Normalize", "RandomCrop", "RandomHorizontalFlip",
           "RandomRotation", "Resize", "ToArray", "adjust_brightness", "adjust_contrast", "image_size",
           "manual_seed", "sample_rng"]
