"""The operations under the image transforms (torchvision.transforms.functional's role): on PIL images
through Pillow, on (C, H, W) / (H, W) arrays through NumPy, or Pillow's float images channel by channel."""

import numbers

import numpy as np


def image_module():
    from PIL import Image

    return Image


def is_pil(img):
    # A PIL image without importing Pillow for arrays: anything PIL made is a PIL.Image.Image.
    return type(img).__module__.startswith("PIL.")


def resample(name):
    """Pillow's filter called ``name`` (nearest, bilinear, bicubic, lanczos, box, hamming)."""
    method = getattr(image_module().Resampling, str(name).upper(), None)
    if method is None:
        raise ValueError(f"interpolation must be one of nearest, bilinear, bicubic, lanczos, box, hamming, "
                         f"got {name!r}")
    return method


def size_pair(size, what):
    if isinstance(size, numbers.Integral) and not isinstance(size, bool):
        size = (int(size), int(size))
    size = tuple(size)
    if len(size) != 2 or not all(isinstance(s, numbers.Integral) and not isinstance(s, bool) and s > 0 for s in size):
        raise ValueError(f"{what}: size must be a positive integer or (height, width), got {size!r}")
    return int(size[0]), int(size[1])


def as_chw(img, what):
    """A float or integer array (C, H, W) — a 2-D (H, W) one gains the channel axis."""
    x = np.asarray(img)
    if x.ndim == 2:
        x = x[None]
    if x.ndim != 3:
        raise TypeError(f"{what}: expected a PIL image or an array (C, H, W), got shape {x.shape}")
    return x


def image_size(img):
    """(height, width) of a PIL image or of an array (C, H, W) / (H, W)."""
    if is_pil(img):
        return img.size[1], img.size[0]
    return np.shape(img)[-2:]


def per_channel(x, op):
    """``op`` (PIL image -> PIL image) applied to each channel of x (C, H, W) as a float image."""
    Image = image_module()
    channels = [np.asarray(op(Image.fromarray(np.ascontiguousarray(c, dtype=np.float32)))) for c in x]
    return np.stack(channels).astype(np.float32, copy=False)


def crop_array(x, top, left, height, width, fill=0):
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


def crop(img, top, left, height, width, fill=0):
    if not is_pil(img):
        return crop_array(as_chw(img, "crop"), top, left, height, width, fill)
    w, h = img.size
    outside = (max(0, -left), max(0, -top), max(0, left + width - w), max(0, top + height - h))
    if fill != 0 and any(outside):  # PIL's crop fills outside the image with 0; pad with fill first
        from PIL import ImageOps

        img = ImageOps.expand(img, border=outside, fill=fill)
        left, top = left + outside[0], top + outside[1]
    return img.crop((left, top, left + width, top + height))


def padding_ltrb(padding):
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


GRAY_WEIGHTS = (0.2989, 0.587, 0.114)  # torchvision's luma weights for tensors


def gray(x):
    """The luma of x (C, H, W) as (1, H, W): the channel itself for one channel."""
    if x.shape[0] == 1:
        return x
    if x.shape[0] != 3:
        raise ValueError(f"grayscale needs 1 or 3 channels, got {x.shape[0]}")
    r, g, b = x.astype(np.float32, copy=False)
    return (GRAY_WEIGHTS[0] * r + GRAY_WEIGHTS[1] * g + GRAY_WEIGHTS[2] * b)[None]


def float_chw(img, what):
    x = as_chw(img, what)
    if x.dtype.kind != "f":
        raise TypeError(f"{what}: arrays must hold floats in [0, 1] (apply ToArray first), got {x.dtype}")
    return x


def adjust_brightness(img, factor):
    if is_pil(img):
        from PIL import ImageEnhance

        return ImageEnhance.Brightness(img).enhance(factor)
    x = float_chw(img, "adjust_brightness")
    return np.clip(x * np.float32(factor), 0, 1)


def adjust_contrast(img, factor):
    if is_pil(img):
        from PIL import ImageEnhance

        return ImageEnhance.Contrast(img).enhance(factor)
    x = float_chw(img, "adjust_contrast")
    mean = np.float32(gray(x).mean())
    return np.clip(np.float32(factor) * x + np.float32(1 - factor) * mean, 0, 1)
