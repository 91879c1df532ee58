"""`nntrain predict`: classes and probabilities for new inputs (images, .npy arrays, CSV rows)."""

import json
import os

import click

from .common import console, fail, user_errors


def _read_image(path, input_shape):
    """An image file through Pillow, in the model's colour mode, resized to its input size and scaled to
    [0, 1]: as an image folder is read for training (data/image_folder.py)."""
    from ..data import transforms as T
    from ..data.image_folder import read_image

    if len(input_shape) != 3 or input_shape[0] not in (1, 3):
        fail(f"{path}: the model takes inputs of {tuple(input_shape)}, not images")
    channels, height, width = input_shape
    img = read_image(path, "L" if channels == 1 else "RGB")
    return T.Compose([T.Resize((height, width)), T.ToArray()])(img)[None], [path]


def _read_npy(path, input_shape):
    import numpy as np

    try:
        x = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        fail(f"{path}: not a readable .npy array ({' '.join(str(e).split())})")
    if x.dtype == np.uint8:
        x = x.astype(np.float32) / 255.0
    if x.dtype.kind not in "fiu":
        fail(f"{path}: expected a numeric array, got {x.dtype}")
    x = x.astype(np.float32)
    if tuple(x.shape) == tuple(input_shape):
        x = x[None]
    return x, [f"{path}[{i}]" for i in range(len(x))] if len(x) > 1 else [path]


def _read_csv(path, input_shape):
    """Rows of pixels, optionally after a label (ignored); values above 1 are taken as 0..255."""
    import numpy as np

    from ..data import read_csv

    size = int(np.prod(input_shape))
    with open(path, "rb") as f:
        first = f.readline().decode("utf-8", "replace").strip()
    fields = len(first.split(","))
    if fields not in (size, size + 1):
        fail(f"{path}: rows of {fields} fields; the model takes {size} pixels (optionally after a label)")
    if fields == size + 1:
        x = read_csv(path).x.reshape(-1, size)  # the data reader checks the rows and scales the pixels
    else:
        try:
            x = np.loadtxt(path, delimiter=",", dtype=np.float64, ndmin=2)
        except ValueError as e:
            fail(f"{path}: not a CSV of numbers ({' '.join(str(e).split())})")
        if x.max(initial=0) > 1:
            x = x / 255.0
    return x.astype(np.float32), [f"{path}:{i + 1}" for i in range(len(x))]


def _readers():
    from ..data.image_folder import IMAGE_EXTENSIONS

    return {".npy": _read_npy, ".csv": _read_csv, **{ext: _read_image for ext in IMAGE_EXTENSIONS}}


@click.command("predict")
@click.argument("model_path", metavar="RUNDIR|MODEL")
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@click.option("--temperature", type=float, default=1.0, show_default=True,
              help="Softmax temperature: above 1 flattens the probabilities, below 1 sharpens them.")
@click.option("--top", "top_k", type=click.IntRange(1), default=3, show_default=True, help="Classes to show.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@user_errors
def command(model_path, files, temperature, top_k, as_json):
    """Predict the class of each input (its values, for a regression model): images (PNG, JPEG, BMP, GIF,
    WebP, TIFF), .npy arrays (one example or a batch) or CSV rows.

    Inputs get the same preparation as the training data had: images are read in the model's colour mode
    and resized to its input size; pixel values of 0..255 are scaled to [0, 1]; then the training data's
    normalisation.

    \b
    Examples:
      nntrain predict runs/cnn shoe.png boot.jpg
      nntrain predict runs/mlp batch.npy --top 1 --json
    """
    import numpy as np

    from .. import functional as F
    from ..run import load_trained_model, normalizer_of

    if not temperature > 0:
        fail(f"--temperature must be positive, got {temperature}")
    model, meta = load_trained_model(model_path)
    input_shape = tuple(meta["input_shape"])
    names = meta.get("class_names") or [str(i) for i in range(meta["classes"])]
    normalizer = normalizer_of(meta)
    regression = meta["config"]["training"]["task"] == "regression"
    results = []
    readers = _readers()
    for path in files:
        ext = os.path.splitext(path)[1].lower()
        if ext not in readers:
            fail(f"{path}: unsupported input type '{ext or '(none)'}' (use an image, .npy or .csv)")
        if not os.path.isfile(path):
            fail(f"{path}: no such file")
        x, labels = readers[ext](path, input_shape)
        try:
            x = x.reshape((len(x),) + input_shape)
        except ValueError:
            fail(f"{path}: holds {tuple(x.shape[1:])} per example but the model takes {input_shape}")
        if normalizer is not None:
            shape = (1, -1) + (1,) * (x.ndim - 2)
            x = (x - normalizer.mean.reshape(shape)) / normalizer.std.reshape(shape)
        outputs = np.ascontiguousarray(model(np.ascontiguousarray(x, np.float32)), np.float32)
        if regression:
            results += [{"input": label, "value": [float(v) for v in row]} for label, row in zip(labels, outputs)]
            continue
        probs = F.softmax(outputs, temperature=temperature)
        for label, p in zip(labels, probs):
            top = np.argsort(-p, kind="stable")[:top_k]
            results.append({"input": label, "class": int(top[0]), "name": names[top[0]],
                            "top": [{"class": int(c), "name": names[c], "probability": float(p[c])} for c in top]})
    if as_json:
        click.echo(json.dumps({"predictions": results, "temperature": temperature}))
        return
    out = console()
    for r in results:
        if regression:
            out.print(f"{r['input']}: {', '.join(f'{v:.6g}' for v in r['value'])}")
            continue
        others = ", ".join(f"{t['name']} {t['probability']:.1%}" for t in r["top"])
        out.print(f"{r['input']}: {r['name']}  ({others})")
