"""The course's workflow as a learner types it: a data set class reading image files with Pillow, a
DataLoader, and nntrain.Model's prepare / fit / evaluate. The images are the embedded 8x8 digits, written
out as PNG files first (one folder per class), so the example needs no download.

    python examples/image_folder_model.py              # 30 epochs, as in the material
    python examples/image_folder_model.py --epochs 3
"""

import os
import sys
import tempfile

import numpy as np
from PIL import Image

import nntrain
from nntrain import nn
from nntrain.data import DataLoader, Dataset, random_split
from nntrain.data.digits import TEST_EVERY, read_digits


def write_digits(root):
    """The 1,797 digits as grayscale PNG files root/<label>/<row>.png; returns (train_items, test_items), lists
    of (path, label) split as nntrain.data.load_digits splits them (every fifth row is a test image)."""
    x, y = read_digits()
    pixels = np.rint(x[:, 0] * 255).astype(np.uint8)  # x is in [0, 1]; PNG keeps these bytes exactly
    train_items, test_items = [], []
    for row, (image, label) in enumerate(zip(pixels, y.tolist())):
        folder = os.path.join(root, str(label))
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, f"{row:04d}.png")
        Image.fromarray(image, mode="L").save(path)
        (test_items if row % TEST_EVERY == 0 else train_items).append((path, label))
    return train_items, test_items


# ---- from here on, the material's code as written ---------------------------------------------------------
class MyDataset(Dataset):                       # a map-style dataset over image files
    def __init__(self, items, transform=None): self.items, self.transform = items, transform
    def __len__(self): return len(self.items)
    def __getitem__(self, index):
        path, label = self.items[index]
        img = Image.open(path).convert("RGB").resize((100, 100))
        img = np.asarray(img, dtype=np.float32) / 255.0          # HWC in [0, 1]
        return img.transpose(2, 0, 1), label


class MyMLP(nn.Module):
    def __init__(self, num_classes=10, seed=0):
        super().__init__()
        rng = np.random.default_rng(seed)
        self.hidden = nn.Sequential(nn.Linear(3 * 100 * 100, 100, rng=rng), nn.ReLU(),
                                    nn.Linear(100, 256, rng=rng), nn.ReLU(),
                                    nn.Linear(256, num_classes, rng=rng))

    def forward(self, x):
        return self.hidden(x.flatten(1))


def main(root, epochs=30, verbose=1):
    """Trains on the digits written under ``root``; returns (model, the test set's {'loss', 'acc'})."""
    train_items, test_items = write_digits(root)
    train_set, val_set = random_split(MyDataset(train_items), [0.9, 0.1], generator=0)
    test_set = MyDataset(test_items)

    train_loader = DataLoader(train_set, batch_size=64, shuffle=True, drop_last=True)
    if verbose:
        print(f"{len(train_set)} training images, {len(train_loader)} batches of 64 an epoch")
    model = nntrain.Model(MyMLP())
    model.prepare(nntrain.optim.Adam(model.parameters(), lr=0.001), nn.CrossEntropyLoss(), nntrain.metric.Accuracy())
    model.fit(train_set, eval_data=val_set, epochs=epochs, batch_size=64, verbose=verbose)
    return model, model.evaluate(test_set, batch_size=64)   # {'loss': ..., 'acc': ...}


if __name__ == "__main__":
    epochs = int(sys.argv[sys.argv.index("--epochs") + 1]) if "--epochs" in sys.argv else 30
    with tempfile.TemporaryDirectory() as folder:
        _, result = main(folder, epochs)
    print(f"test loss {result['loss']:.4f}  accuracy {result['acc']:.2%}")
