"""The augmentation presets (``--augment flip,crop``): random changes to a training image that keep its class.

    flip     mirror left to right, half the time
    crop     shift by up to 1/14 of the side (2 pixels at 28x28): pad with black, crop back at random
    rotate   turn by up to 10 degrees either way
    jitter   scale brightness and contrast by up to 20% either way (pixel values in [0, 1])

Each works on PIL images and on (C, H, W) arrays alike, so in-memory data sets and image folders are
augmented the same way.
"""

from . import transforms as T

PRESETS = ("flip", "crop", "rotate", "jitter")
# presets whose array version rounds otherwise than Pillow's on 8-bit images (data/image_ops.py): images kept
# in memory (data/image_cache.py) are augmented as PIL images when a run asks for one of them
ARRAY_ROUNDING = ("jitter",)


def crop_padding(height, width) -> int:
    return max(1, round(min(height, width) / 14))


def augmentation(names, height, width) -> list:
    """The transforms of the presets ``names`` for images of height x width, in a fixed order."""
    unknown = [n for n in names if n not in PRESETS]
    if unknown:
        raise ValueError(f"unknown augmentation '{unknown[0]}' (choose from {', '.join(PRESETS)})")
    steps = {
        "crop": lambda: T.RandomCrop((height, width), padding=crop_padding(height, width)),
        "flip": lambda: T.RandomHorizontalFlip(),
        "rotate": lambda: T.RandomRotation(10),
        "jitter": lambda: T.ColorJitter(brightness=0.2, contrast=0.2),
    }
    return [steps[name]() for name in ("crop", "flip", "rotate", "jitter") if name in names]
