"""nntrain.data.transforms: each transform against a NumPy or Pillow oracle, on PIL images and on arrays."""

import numpy as np
import pytest
from PIL import Image, ImageEnhance

from nntrain.data import transforms as T
from nntrain.data.sample_rng import set_sample_key


@pytest.fixture
def key():
    """Fetch as example 5 of epoch 2 under seed 11; the draws the transforms see come from this generator."""
    set_sample_key((11, 2, 5))
    yield np.random.default_rng((11, 2, 5))
    set_sample_key(None)


def gray_image(rng, h=10, w=14):
    return Image.fromarray(rng.integers(0, 256, (h, w), dtype=np.uint8))


def rgb_image(rng, h=10, w=14):
    return Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8))


def as_array(img):
    return T.ToArray()(img)


def test_to_array_scales_bytes_and_moves_channels_first(rng):
    pixels = rng.integers(0, 256, (4, 5, 3), dtype=np.uint8)
    x = T.ToArray()(Image.fromarray(pixels))
    assert x.shape == (3, 4, 5) and x.dtype == np.float32 and x.flags.c_contiguous
    np.testing.assert_array_equal(x, pixels.transpose(2, 0, 1).astype(np.float32) / 255)
    np.testing.assert_array_equal(T.ToArray()(pixels), x)  # an (H, W, C) array of bytes likewise
    np.testing.assert_array_equal(T.ToArray()(Image.fromarray(pixels[:, :, 0])), x[:1])
    bits = Image.fromarray(pixels[:, :, 0] > 127)  # mode "1": 0 or 1, as torchvision's ToTensor
    assert bits.mode == "1" and set(np.unique(T.ToArray()(bits)).tolist()) <= {0.0, 1.0}
    floats = rng.random((4, 5)).astype(np.float32)
    np.testing.assert_array_equal(T.ToArray()(floats), floats[None])  # not bytes: not scaled


def test_normalize_per_channel(rng):
    x = rng.random((3, 4, 5)).astype(np.float32)
    mean, std = [0.1, 0.5, 0.9], [0.2, 0.3, 0.4]
    out = T.Normalize(mean, std)(x)
    expected = (x - np.float32(mean)[:, None, None]) / np.float32(std)[:, None, None]
    np.testing.assert_array_equal(out, expected)
    assert out.dtype == np.float32
    with pytest.raises(ValueError, match="every std must be positive"):
        T.Normalize([0.0], [0.0])
    with pytest.raises(ValueError, match="2 means for an image of 3 channels"):
        T.Normalize([0, 0], [1, 1])(x)
    with pytest.raises(TypeError, match="apply ToArray first"):
        T.Normalize([0], [1])(np.zeros((1, 2, 2), np.uint8))


@pytest.mark.parametrize("h, w, size, expected", [
    (10, 20, 5, (5, 10)), (20, 10, 5, (10, 5)), (7, 10, 4, (4, 5)), (9, 9, (4, 6), (4, 6)),
])
def test_resize_output_size_as_torchvision(h, w, size, expected):
    assert T.Resize(size).output_size(h, w) == expected


def test_resize_uses_pillows_antialiased_filter_on_images_and_arrays(rng):
    img = gray_image(rng, 20, 30)
    out = T.Resize((8, 11))(img)
    assert out.size == (11, 8)
    np.testing.assert_array_equal(np.asarray(out), np.asarray(img.resize((11, 8), Image.Resampling.BILINEAR)))
    # on an array, the same filter in float; Pillow's byte images round after each of its two passes
    x = T.Resize((8, 11))(as_array(img))
    assert x.shape == (1, 8, 11) and x.dtype == np.float32
    np.testing.assert_allclose(x, as_array(out), atol=1.5 / 255)
    assert T.Resize((20, 30))(img) is img  # already that size
    rgb = rgb_image(rng, 20, 30)
    np.testing.assert_allclose(T.Resize(10)(as_array(rgb)), as_array(T.Resize(10)(rgb)), atol=1.5 / 255)


def test_center_crop_as_numpy_slicing_and_padding(rng):
    img = rgb_image(rng, 10, 9)
    x = as_array(img)
    np.testing.assert_array_equal(as_array(T.CenterCrop((5, 4))(img)), x[:, 2:7, 2:6])  # round(2.5) = 2
    np.testing.assert_array_equal(T.CenterCrop((5, 4))(x), x[:, 2:7, 2:6])
    big = T.CenterCrop((13, 12))(x)  # padded: 1 row above, 2 below; 1 column left, 2 right
    expected = np.zeros((3, 13, 12), np.float32)
    expected[:, 1:11, 1:10] = x
    np.testing.assert_array_equal(big, expected)
    np.testing.assert_array_equal(as_array(T.CenterCrop((13, 12))(img)), expected)


def test_random_crop_pads_then_crops_where_the_example_generator_says(rng, key):
    img = gray_image(rng, 6, 7)
    x = as_array(img)
    padded = np.pad(x, ((0, 0), (2, 2), (2, 2)))
    i, j = key.integers(0, 10 - 6 + 1), key.integers(0, 11 - 7 + 1)
    np.testing.assert_array_equal(T.RandomCrop((6, 7), padding=2)(x), padded[:, i:i + 6, j:j + 7])
    set_sample_key((11, 2, 5))  # the same example again: the same crop, on the image too
    np.testing.assert_array_equal(as_array(T.RandomCrop((6, 7), padding=2)(img)), padded[:, i:i + 6, j:j + 7])


def test_random_crop_fill_padding_forms_and_errors(rng, key):
    x = as_array(gray_image(rng, 4, 4))
    out = T.RandomCrop(6, padding=(1, 1), fill=0.5)(x)  # (left/right, top/bottom): exactly the padded image
    expected = np.pad(x, ((0, 0), (1, 1), (1, 1)), constant_values=0.5)
    np.testing.assert_array_equal(out, expected)
    img = gray_image(rng, 4, 4)
    out = as_array(T.RandomCrop(6, padding=1, fill=128)(img))
    np.testing.assert_array_equal(out, np.pad(as_array(img), ((0, 0), (1, 1), (1, 1)), constant_values=128 / 255))
    assert T.RandomCrop(9, pad_if_needed=True)(x).shape == (1, 9, 9)
    with pytest.raises(ValueError, match=r"crop size \(5, 5\) is larger than the \(padded\) image \(4, 4\)"):
        T.RandomCrop(5)(x)
    with pytest.raises(ValueError, match="padding must be"):
        T.RandomCrop(3, padding=(1, 2, 3))


def test_horizontal_flip(rng):
    img = rgb_image(rng)
    x = as_array(img)
    np.testing.assert_array_equal(T.RandomHorizontalFlip(1.0)(x), x[:, :, ::-1])
    np.testing.assert_array_equal(as_array(T.RandomHorizontalFlip(1.0)(img)), x[:, :, ::-1])
    np.testing.assert_array_equal(T.RandomHorizontalFlip(0.0)(x), x)
    flipped = 0
    for i in range(400):
        set_sample_key((0, 0, i))
        flipped += not np.array_equal(T.RandomHorizontalFlip()(x), x)
    set_sample_key(None)
    assert 160 < flipped < 240


def test_rotation_by_a_quarter_turn_is_rot90(rng):
    img = gray_image(rng, 9, 9)
    x = as_array(img)
    quarter = T.RandomRotation((90, 90))
    np.testing.assert_array_equal(as_array(quarter(img)), np.rot90(x, axes=(1, 2)))  # counter-clockwise
    np.testing.assert_array_equal(quarter(x), np.rot90(x, axes=(1, 2)))
    np.testing.assert_array_equal(as_array(T.RandomRotation((180, 180))(img)), x[:, ::-1, ::-1])


def test_rotation_angle_from_the_example_generator(rng, key):
    img = gray_image(rng, 12, 12)
    angle = key.uniform(-30, 30)
    np.testing.assert_array_equal(np.asarray(T.RandomRotation(30)(img)), np.asarray(img.rotate(angle)))


def test_color_jitter_on_arrays_follows_torchvisions_formulas(rng, key):
    x = rng.random((3, 5, 6)).astype(np.float32)
    order = key.permutation(2)
    b, c = key.uniform(0.5, 1.5), key.uniform(0.7, 1.3)
    expected = x
    for which in order:
        if which == 0:
            expected = np.clip(expected * np.float32(b), 0, 1)
        else:
            gray = 0.2989 * expected[0] + 0.587 * expected[1] + 0.114 * expected[2]
            expected = np.clip(np.float32(c) * expected + np.float32(1 - c) * np.float32(gray.mean()), 0, 1)
    np.testing.assert_allclose(T.ColorJitter(brightness=0.5, contrast=0.3)(x), expected, rtol=1e-6, atol=1e-7)


def test_color_jitter_on_images_is_pillows_enhance(rng, key):
    img = rgb_image(rng)
    key.permutation(2)
    b = key.uniform(0.8, 1.2)
    np.testing.assert_array_equal(np.asarray(T.ColorJitter(brightness=0.2)(img)),
                                  np.asarray(ImageEnhance.Brightness(img).enhance(b)))
    with pytest.raises(ValueError, match="brightness must be non-negative"):
        T.ColorJitter(brightness=-1)


def test_grayscale(rng):
    img = rgb_image(rng)
    np.testing.assert_array_equal(np.asarray(T.Grayscale()(img)), np.asarray(img.convert("L")))
    assert T.Grayscale(3)(img).mode == "RGB"
    x = as_array(img)
    gray = T.Grayscale()(x)
    np.testing.assert_allclose(gray[0], 0.2989 * x[0] + 0.587 * x[1] + 0.114 * x[2], rtol=1e-6)
    np.testing.assert_allclose(gray, as_array(img.convert("L")), atol=1 / 255 + 1e-6)  # Pillow rounds to bytes
    assert T.Grayscale(3)(x).shape == (3, 10, 14)


def test_compose_applies_in_order_and_random_transforms_repeat_per_example(rng):
    img = rgb_image(rng, 12, 12)
    pipeline = T.Compose([T.RandomCrop(10, padding=2), T.RandomHorizontalFlip(), T.ColorJitter(0.3, 0.3),
                          T.RandomRotation(15), T.ToArray(), T.Normalize([0.5] * 3, [0.2] * 3)])
    outs = []
    for i in (3, 4, 3):
        set_sample_key((1, 0, i))
        outs.append(pipeline(img))
    set_sample_key(None)
    assert outs[0].shape == (3, 10, 10)
    np.testing.assert_array_equal(outs[0], outs[2])
    assert not np.array_equal(outs[0], outs[1])
    assert "RandomCrop" in repr(pipeline)


def test_outside_a_loader_the_draws_come_from_a_seeded_fallback(rng):
    x = rng.random((1, 8, 8)).astype(np.float32)
    T.manual_seed(3)
    a = [T.RandomCrop(6)(x) for _ in range(3)]
    T.manual_seed(3)
    b = [T.RandomCrop(6)(x) for _ in range(3)]
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
