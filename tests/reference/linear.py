import numpy as np


def matmul(a, b, trans_a=False, trans_b=False):
    a64 = np.asarray(a, dtype=np.float64)
    b64 = np.asarray(b, dtype=np.float64)
    return (a64.T if trans_a else a64) @ (b64.T if trans_b else b64)


def linear(x, w, b=None):
    y = np.asarray(x, np.float64) @ np.asarray(w, np.float64).T
    return y if b is None else y + b


def linear_backward(dout, x, w):
    dout = np.asarray(dout, np.float64)
    return dout @ np.asarray(w, np.float64), dout.T @ np.asarray(x, np.float64), dout.sum(axis=0)
