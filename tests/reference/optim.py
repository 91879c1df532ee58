"""The optimiser rules as PyTorch 2.x documents them (pseudo-code of torch.optim.SGD, Adagrad, RMSprop, Adam,
AdamW; torch.nn.utils.clip_grad_norm_), one array at a time, in float64. Each returns the new parameter and
state instead of updating in place."""

import numpy as np


def _f64(*arrays):
    return [None if a is None else np.asarray(a, dtype=np.float64) for a in arrays]


def sgd(p, g, buf, *, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, first_step=False):
    p, g, buf = _f64(p, g, buf)
    if weight_decay != 0:
        g = g + weight_decay * p
    if momentum != 0:
        buf = g.copy() if first_step else momentum * buf + (1 - dampening) * g
        g = g + momentum * buf if nesterov else buf
    return p - lr * g, buf


def adagrad(p, g, state_sum, *, lr, lr_decay, weight_decay, eps, step):
    p, g, state_sum = _f64(p, g, state_sum)
    clr = lr / (1 + (step - 1) * lr_decay)
    if weight_decay != 0:
        g = g + weight_decay * p
    state_sum = state_sum + g * g
    return p - clr * g / (np.sqrt(state_sum) + eps), state_sum


def rmsprop(p, g, square_avg, momentum_buf, grad_avg, *, lr, alpha, eps, weight_decay, momentum, centered):
    p, g, square_avg, momentum_buf, grad_avg = _f64(p, g, square_avg, momentum_buf, grad_avg)
    if weight_decay != 0:
        g = g + weight_decay * p
    square_avg = alpha * square_avg + (1 - alpha) * g * g
    v = square_avg
    if centered:
        grad_avg = alpha * grad_avg + (1 - alpha) * g
        v = v - grad_avg * grad_avg
    if momentum > 0:
        momentum_buf = momentum * momentum_buf + g / (np.sqrt(v) + eps)
        p = p - lr * momentum_buf
    else:
        p = p - lr * g / (np.sqrt(v) + eps)
    return p, square_avg, momentum_buf, grad_avg


def adam(p, g, m, v, *, lr, beta1, beta2, eps, weight_decay, step, decoupled=False):
    p, g, m, v = _f64(p, g, m, v)
    if decoupled:
        p = p - lr * weight_decay * p
    elif weight_decay != 0:
        g = g + weight_decay * p
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    m_hat = m / (1 - beta1**step)
    v_hat = v / (1 - beta2**step)
    return p - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


def clip_grad_norm(grads, max_norm):
    """(clipped gradients, total norm before clipping)."""
    grads = _f64(*grads)
    total = np.sqrt(sum(float(np.sum(g * g)) for g in grads))
    coef = max_norm / (total + 1e-6)
    return [g * min(coef, 1.0) for g in grads], total
