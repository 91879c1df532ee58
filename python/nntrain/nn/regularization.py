"""L1 and L2 penalties on the weights: a term added to the loss, and its gradient added to .grad.

    L2: strength/2 * sum(w^2)   gradient  strength * w
    L1: strength   * sum(|w|)   gradient  strength * sign(w)

Only weights (parameters with 2 or more dimensions) are penalised, not biases or BatchNorm scales.
For decoupled weight decay use AdamW.
"""

import numpy as np


def penalised(model):
    return [p for p in model.parameters() if p.data.ndim >= 2]


class L2Penalty:
    def __init__(self, strength):
        if not strength >= 0:
            raise ValueError(f"L2Penalty: strength must be >= 0, got {strength}")
        self.strength = float(strength)

    def __call__(self, model):
        return 0.5 * self.strength * sum(float(np.vdot(p.data, p.data)) for p in penalised(model))

    def backward(self, model):
        for p in penalised(model):
            p.grad += self.strength * p.data


class L1Penalty:
    def __init__(self, strength):
        if not strength >= 0:
            raise ValueError(f"L1Penalty: strength must be >= 0, got {strength}")
        self.strength = float(strength)

    def __call__(self, model):
        return self.strength * sum(float(np.abs(p.data).sum()) for p in penalised(model))

    def backward(self, model):
        for p in penalised(model):
            p.grad += self.strength * np.sign(p.data)
