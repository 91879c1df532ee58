"""The material's network written as a class with only forward: loss.backward() applies the chain rule.

Run it (python examples/my_mlp.py) to train by hand, or train the class from the terminal:

    nntrain train --model examples/my_mlp.py:MyMLP --epochs 10
"""

import numpy as np

import nntrain
from nntrain import data, nn, optim


class MyMLP(nn.Module):
    def __init__(self, num_classes=10, rng=None):
        super().__init__()
        self.features = nn.Sequential(nn.Linear(64, 100, rng=rng), nn.ReLU(), nn.Linear(100, 256, rng=rng), nn.ReLU(),
                                      nn.Linear(256, 256, rng=rng), nn.ReLU(), nn.Linear(256, num_classes, rng=rng))

    def forward(self, x):
        return self.features(x.flatten(1))


def main():
    digits, _ = data.normalise(data.load_digits())
    model = MyMLP(rng=np.random.default_rng(0))
    opt = optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(10):
        for x, y in data.DataLoader(digits.train, batch_size=32, shuffle=True, seed=epoch):
            opt.zero_grad()
            loss = loss_fn(model(nntrain.Tensor(x)), y)   # forward: every op is recorded
            loss.backward()                               # backward: the chain rule, op by op, into .grad
            opt.step()                                    # gradient descent: every parameter against its gradient
    with nntrain.no_grad():
        logits = model(nntrain.Tensor(digits.test.x))
    print(f"test accuracy: {(logits.argmax(dim=1).numpy() == digits.test.y).mean():.1%}")


if __name__ == "__main__":
    main()
