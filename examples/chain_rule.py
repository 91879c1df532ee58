"""The chain rule by hand, op by op over NumPy arrays, and the same gradients from the tape."""

import numpy as np

import nntrain
from nntrain import functional as F

rng = np.random.default_rng(0)
x = rng.standard_normal((4, 3)).astype(np.float32)
y = np.array([0, 2, 1, 2])
w1, b1 = rng.standard_normal((5, 3)).astype(np.float32), np.zeros(5, np.float32)
w2, b2 = rng.standard_normal((3, 5)).astype(np.float32), np.zeros(3, np.float32)

# forward, keeping what each backward needs
h = F.linear(x, w1, b1)
a = F.relu(h)
logits = F.linear(a, w2, b2)
loss, probs = F.cross_entropy(logits, y, return_probs=True)
# backward: each op's own derivative, applied from the loss back to the weights
dlogits = F.cross_entropy_backward(probs, y)
da, dw2, db2 = F.linear_backward(dlogits, a, w2, b2)
dh = F.relu_backward(da, h)
_, dw1, db1 = F.linear_backward(dh, x, w1, b1)

# the tape: the same forward on Tensors, then one call
params = [nntrain.tensor(p, requires_grad=True) for p in (w1, b1, w2, b2)]
t_loss = F.cross_entropy(F.linear(F.linear(nntrain.Tensor(x), params[0], params[1]).relu(), params[2], params[3]), y)
t_loss.backward()
worst = max(float(np.abs(p.grad - g).max()) for p, g in zip(params, (dw1, db1, dw2, db2)))
print(f"loss {loss:.4f} (tape {t_loss.item():.4f}); largest gradient difference {worst:.1e}")
