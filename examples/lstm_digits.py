"""A row-by-row LSTM classifier on the embedded digits: each 8x8 image is read as a sequence of 8 rows of 8
pixels, the LSTM's last hidden state is classified by a Linear layer. Written as a user writes it: a Module
subclass with a forward, and a hand loop of loss.backward(); opt.step()."""
import numpy as np

import nntrain
from nntrain import data, nn, optim
from nntrain import functional as F


class RowLSTM(nn.Module):
    def __init__(self, hidden_size=64, num_classes=10, rng=None):
        super().__init__()
        self.lstm = nn.LSTM(input_size=8, hidden_size=hidden_size, batch_first=True, rng=rng)
        self.head = nn.Linear(hidden_size, num_classes, rng=rng)

    def forward(self, images):                        # (N, 1, 8, 8)
        rows = images.reshape(images.shape[0], 8, 8)  # (N, 8 steps, 8 pixels per step)
        _, (h_n, _) = self.lstm(rows)                 # h_n: (num_layers, N, hidden)
        return self.head(h_n[-1])                     # logits (N, 10)


def accuracy(model, dataset):
    with nntrain.no_grad():
        logits = model(nntrain.Tensor(dataset.x))
    return float((logits.argmax(dim=1).numpy() == dataset.y).mean())


def main(epochs=6, seed=0):
    digits, _ = data.normalise(data.load_digits())    # a fixed train/test split
    rng = np.random.default_rng(seed)                 # one seed fixes the whole run
    model = RowLSTM(rng=rng)
    opt = optim.Adam(model.parameters(), lr=1e-2)
    loader = data.DataLoader(digits.train, batch_size=32, shuffle=True, seed=seed)
    for epoch in range(epochs):
        for x, y in loader:
            loss = F.cross_entropy(model(nntrain.Tensor(x)), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
    return accuracy(model, digits.test)


if __name__ == "__main__":
    print(f"test accuracy: {main():.1%}")
