"""The teaching material's network, Linear-ReLU-Linear-ReLU-Linear-ReLU-Linear, trained on the embedded digits."""
import numpy as np
from nntrain import data, nn, optim, summary
from nntrain.train import Trainer, evaluate

digits, _ = data.normalise(data.load_digits())           # 8x8 images, a fixed train/test split
rng = np.random.default_rng(0)                           # one seed fixes the whole run
model = nn.Sequential(nn.Flatten(),
                      nn.Linear(64, 128, rng=rng), nn.ReLU(),
                      nn.Linear(128, 64, rng=rng), nn.ReLU(),
                      nn.Linear(64, 32, rng=rng), nn.ReLU(),
                      nn.Linear(32, 10, rng=rng))
print(summary(model, (1, 8, 8)))
trainer = Trainer(model, optim.Adam(model.parameters(), lr=1e-3))
trainer.fit(data.DataLoader(digits.train, batch_size=32, shuffle=True, seed=0), epochs=30)
print(f"test accuracy: {evaluate(model, digits.test).accuracy:.1%}")
