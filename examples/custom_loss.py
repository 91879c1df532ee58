"""A loss written by the user from Tensor ops: the focal loss (Lin et al. 2017), which scales each sample's
cross-entropy by (1 - p_t)^gamma so that confidently right samples count less. The tape differentiates it
like any built-in loss; with gamma = 0 it is the cross-entropy. Trained on the embedded digits by hand."""
import numpy as np

import nntrain
from nntrain import data, nn, optim


class FocalLoss(nn.Module):
    def __init__(self, gamma=2.0):
        super().__init__()
        self.gamma = gamma

    def forward(self, logits, target):                      # logits (N, C), integer target (N,)
        logp = logits.log_softmax(dim=1)
        logp_t = logp[np.arange(len(target)), target]      # log p of each sample's own class
        p_t = logp_t.exp()
        return (-((1 - p_t) ** self.gamma) * logp_t).mean()


def main(epochs=15, seed=0, gamma=2.0):
    digits, _ = data.normalise(data.load_digits())
    rng = np.random.default_rng(seed)
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 64, rng=rng), nn.ReLU(), nn.Linear(64, 10, rng=rng))
    loss_fn = FocalLoss(gamma)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loader = data.DataLoader(digits.train, batch_size=32, shuffle=True, seed=seed)
    for epoch in range(epochs):
        for x, y in loader:
            loss = loss_fn(model(nntrain.Tensor(x)), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
    with nntrain.no_grad():
        predicted = model(nntrain.Tensor(digits.test.x)).argmax(dim=1).numpy()
    return float((predicted == digits.test.y).mean())


if __name__ == "__main__":
    print(f"test accuracy: {main():.1%}")
