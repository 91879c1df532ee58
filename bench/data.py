"""Training from image files against training from memory: samples/s of the cnn preset (forward + backward +
Adam, batch 64) on Fashion-MNIST read from a folder of PNG files, against the same pixels held in memory, in
alternating windows of one run (best of each). The folder is read two ways: its decoded images kept in memory
after the start-up check (data.cache_images = auto, the default), and decoded again every epoch by DataLoader
workers (cache_images = off). Each row also gives the share of its time the training step spent waiting for
its next batch (0 when the data keeps up) and the one-time start-up cost: the seconds of load_data (reading
IDX files; or listing the folder and decoding every image once, with the workers).

The PNG folder is written once (bench/data.py's write_fashion_mnist_pngs, also scripts/fashion-mnist-png)
into $NNTRAIN_BENCH_PNG, or a folder under the system's temporary directory.
"""

import os
import re
import tempfile
import time

import numpy as np

from nntrain import config as cfg
from nntrain import nn, optim, presets
from nntrain.data import ArrayDataset, DataLoader, find_dataset
from nntrain.run_data import load_data
from nntrain.train import Trainer


def folder_names(class_names):
    """Class folders numbered so that, sorted, they keep the data set's label order."""
    return [f"{i}-{re.sub(r'[^a-z0-9]+', '-', n.lower()).strip('-')}" for i, n in enumerate(class_names)]


def write_fashion_mnist_pngs(out, limit=None):
    """Fashion-MNIST as OUT/{train,test}/<class>/<index>.png, losslessly (the IDX bytes themselves); files
    already there are kept. At most ``limit`` images per split. Returns how many images OUT holds."""
    from PIL import Image

    splits = find_dataset("fashion-mnist")
    names = folder_names(splits.class_names)
    count, offset = 0, 0
    for part, data in (("train", splits.train), ("test", splits.test)):
        pixels = np.rint(data.x[:, 0] * 255).astype(np.uint8)  # x is bytes / 255: rounding recovers them
        n = len(data) if limit is None else min(limit, len(data))
        for name in names:
            os.makedirs(os.path.join(out, part, name), exist_ok=True)
        for i in range(n):
            path = os.path.join(out, part, names[data.y[i]], f"{offset + i:05d}.png")
            if not os.path.exists(path):
                Image.fromarray(pixels[i]).save(path)
        count += n
        offset += len(data)
    return count


def _window(trainer, loader, steps):
    """(samples/s, share of the time spent in the loader) over ``steps`` steps of a fresh epoch."""
    batches = iter(loader)
    waited, seen = 0.0, 0
    start = time.perf_counter()
    for _ in range(steps):
        t = time.perf_counter()
        x, y = next(batches)
        waited += time.perf_counter() - t
        trainer.train_step(x, y)
        seen += len(x)
    seconds = time.perf_counter() - start
    batches.close()
    return seen / seconds, waited / seconds


def _setup(config):
    start = time.perf_counter()
    splits, _ = load_data(config)
    startup = time.perf_counter() - start
    model = presets.build("cnn", splits.input_shape, splits.classes, rng=np.random.default_rng(0))
    trainer = Trainer(model, optim.Adam(model.parameters(), lr=1e-3), nn.CrossEntropyLoss())
    d = config["data"]
    # an image folder's streamed batches are scaled and normalised as a whole by the splits' collate (ImageBatch)
    loader = DataLoader(splits.train, d["batch_size"], shuffle=True, num_workers=d["workers"],
                        collate_fn=getattr(splits, "collate_fn", None))
    return trainer, loader, startup, type(splits.train) is ArrayDataset


def run(quick=False, workers=2):
    try:
        find_dataset("fashion-mnist")
    except ValueError:
        return []
    limit = 4000 if quick else None
    out = os.environ.get("NNTRAIN_BENCH_PNG") or os.path.join(tempfile.gettempdir(),
                                                              "nntrain-fashion-mnist-png" + ("-4k" if quick else ""))
    write_fashion_mnist_pngs(out, limit)

    def config(data):
        return cfg.resolve(None, {"data": data, "model": {"preset": "cnn"}})

    sources = {"memory": _setup(config({"name": "fashion-mnist"}))}
    trainer, loader, startup, kept = _setup(config({"path": out, "workers": workers}))  # cache_images auto
    sources["PNG files, kept in memory (auto)" if kept else "PNG files, auto: streamed (memory short)"] = \
        (trainer, loader, startup, kept)
    sources[f"PNG files, streamed by {workers} workers"] = _setup(config({"path": out, "workers": workers,
                                                                         "cache_images": "off"}))
    steps, repeats = (20, 2) if quick else (150, 3)
    best = {name: (0.0, 1.0) for name in sources}
    for _ in range(repeats):
        for name, (trainer, loader, _, _) in sources.items():
            rate, waiting = _window(trainer, loader, steps)
            if rate > best[name][0]:
                best[name] = (rate, waiting)
    base = best["memory"][0]
    return [{"source": name, "samples_per_second": rate, "waiting": waiting, "vs_memory": rate / base,
             "startup_seconds": sources[name][2]} for name, (rate, waiting) in best.items()]
