"""A network of two branches joined by nntrain.cat, with one layer shared by both: a convolutional branch
sees the digit as an image, a dense branch sees its 64 pixels; both pass through the same Linear layer
(one set of weights, called twice per forward, so its gradient is the sum of both branches' shares),
and the joined features are classified. Trained on the embedded digits by nntrain.Trainer."""
import numpy as np

import nntrain
from nntrain import data, nn, optim
from nntrain.train import Trainer, evaluate


class TwoBranch(nn.Module):
    def __init__(self, width=32, num_classes=10, rng=None):
        super().__init__()
        self.image = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1, rng=rng), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                                   nn.Linear(8 * 4 * 4, width, rng=rng), nn.ReLU())
        self.pixels = nn.Sequential(nn.Flatten(), nn.Linear(64, width, rng=rng), nn.ReLU())
        self.shared = nn.Linear(width, width, rng=rng)   # used by both branches
        self.head = nn.Linear(2 * width, num_classes, rng=rng)

    def forward(self, x):                                # (N, 1, 8, 8)
        a = self.shared(self.image(x)).relu()
        b = self.shared(self.pixels(x)).relu()
        return self.head(nntrain.cat([a, b], dim=1))


def main(epochs=10, seed=0):
    digits, _ = data.normalise(data.load_digits())
    rng = np.random.default_rng(seed)
    model = TwoBranch(rng=rng)
    trainer = Trainer(model, optim.Adam(model.parameters(), lr=3e-3))
    trainer.fit(data.DataLoader(digits.train, batch_size=32, shuffle=True, seed=seed), epochs=epochs)
    return evaluate(model, digits.test).accuracy


if __name__ == "__main__":
    print(f"test accuracy: {main():.1%}")
