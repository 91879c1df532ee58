"""Type stubs of nntrain._core, the compiled kernels (generated from the module's own signatures).

Use nntrain.functional: it wraps these with the gradient-buffer rule and argument conversion."""

from typing import Any

import numpy as np

NDArray = np.ndarray

OPTIM_CHUNK: int

def activation_backward(kind: str, dout: NDArray, x: Any, y: Any, dx: Any, param: float = 0.0) -> None:
    """dx += dout * f'(x); sigmoid and tanh read the forward output y, the others the input x."""

def activation_forward(kind: str, x: NDArray, param: float = 0.0) -> NDArray:
    """f(x) elementwise; kind is relu, leaky_relu (param: negative_slope), elu (param: alpha), sigmoid, tanh, gelu or gelu_tanh."""

def adagrad_update(params: Any, grads: Any, state_sums: Any, lr: float, lr_decay: float, weight_decay: float, eps: float, step: int) -> None:
    """torch.optim.Adagrad's step number `step` on every array of params in place."""

def adam_update(params: Any, grads: Any, exp_avgs: Any, exp_avg_sqs: Any, lr: float, beta1: float, beta2: float, eps: float, weight_decay: float, step: int, decoupled: bool) -> None:
    """torch.optim.Adam's (AdamW's when decoupled) step number `step` in place."""

def array_norms(arrays: Any) -> list:
    """L2 norm of each array, as a list of floats."""

def avg_pool2d_backward(dout: NDArray, dx: Any, kernel_size: tuple[int, int], stride: tuple[int, int], padding: tuple[int, int] = (0, 0), count_include_pad: bool = True) -> None:
    """dx (N, C, H, W) += each window's dout shared equally over it."""

def avg_pool2d_forward(x: NDArray, kernel_size: tuple[int, int], stride: tuple[int, int], padding: tuple[int, int] = (0, 0), count_include_pad: bool = True) -> NDArray:
    """Mean of each window."""

def batch_norm_backward(dout: NDArray, x: NDArray, weight: Any, mean: NDArray, invstd: NDArray, training: bool, dx: Any = None, dweight: Any = None, dbias: Any = None) -> None:
    """Accumulates the input, weight and bias gradients (None skips one)."""

def batch_norm_forward(x: NDArray, running_mean: Any, running_var: Any, weight: Any, bias: Any, training: bool, momentum: float = 0.1, eps: float = 1e-05) -> tuple:
    """(out, mean, invstd): batch statistics when training (updating the running ones in place), running statistics otherwise."""

def build_info() -> dict:
    """Compiler, OpenMP, SIMD level in use and supported, thread count, denormal mode."""

def clip_grad_norm(grads: Any, max_norm: float) -> float:
    """Scales grads in place by max_norm / (norm + 1e-6) when that is < 1; returns the norm before clipping."""

def col2im(col: NDArray, img: Any, kernel_size: tuple[int, int], stride: tuple[int, int] = (1, 1), padding: tuple[int, int] = (0, 0), dilation: tuple[int, int] = (1, 1)) -> None:
    """img (C, H, W) += the adjoint of im2col applied to col."""

def conv2d_backward(dout: NDArray, x: NDArray, weight: NDArray, dx: Any = None, dweight: Any = None, dbias: Any = None, stride: tuple[int, int] = (1, 1), padding: tuple[int, int] = (0, 0), dilation: tuple[int, int] = (1, 1)) -> None:
    """Accumulates the input, weight and bias gradients into the arrays given (None skips one)."""

def conv2d_forward(x: NDArray, weight: NDArray, bias: Any = None, stride: tuple[int, int] = (1, 1), padding: tuple[int, int] = (0, 0), dilation: tuple[int, int] = (1, 1), naive: bool = False) -> NDArray:
    """x (N, C, H, W), weight (OC, C, KH, KW), bias (OC) -> (N, OC, OH, OW). naive=True runs the direct loop twin."""

def cross_entropy_backward(probs: NDArray, target: NDArray, dlogits: Any, label_smoothing: float = 0.0, grad: float = 1.0) -> None:
    """dlogits += grad / N * (probs - smoothed target)."""

def cross_entropy_forward(logits: NDArray, target: NDArray, label_smoothing: float = 0.0) -> tuple:
    """Mean softmax-cross-entropy of logits (N, C) against int64 labels (N,) or probabilities (N, C): (loss, softmax(logits))."""

def detect_cache_sizes(sysfs_dir: str = '/sys/devices/system/cpu/cpu0/cache', use_sysconf: bool = True) -> dict:
    """The cache sizes GEMM's blocks are cut to, detected again: sysconf, else sysfs_dir's index*/ entries, else a conservative fallback; 'source' says which for each level."""

def dropout_backward(dout: NDArray, dx: Any, p: float, seed: int) -> None:
    """dx += dout / (1 - p) where the same mask keeps it."""

def dropout_forward(x: NDArray, p: float, seed: int) -> NDArray:
    """x / (1 - p) where the mask of (seed, element index) keeps it, else 0."""

def gemm(c: Any, a: NDArray, b: NDArray, trans_a: bool = False, trans_b: bool = False, alpha: float = 1.0, beta: float = 0.0, bias: Any = None, bias_along: str = 'none', naive: bool = False) -> None:
    """c := beta*c + alpha*op(a)@op(b) [+ bias along 'rows' or 'cols'], in place. a, b and c may be column slices of wider arrays (rows contiguous). naive=True runs the triple-loop twin."""

def gemm_blocks(mr: int, nr: int, element_bytes: int, l1d: int, l2: int, l3: int) -> dict:
    """GEMM's cache blocks (mc, kc, nc) for an mr x nr register tile on caches of the given sizes in bytes."""

def gemm_plan(m: int, n: int, k: int, trans_a: bool = False, trans_b: bool = False, dtype: str = 'float32') -> dict:
    """How gemm computes an (m, n, k) product with the current ISA and thread count: strategy ('panels', 'blocked', 'split_k', 'dot'), whether it runs transposed, K parts, whether the dot kernel computes them, register tile and cache blocks."""

def get_num_threads() -> int:
    """Threads the kernels use."""

def grad_norm(arrays: Any) -> float:
    """L2 norm of all elements of all arrays together."""

def im2col(img: NDArray, kernel_size: tuple[int, int], stride: tuple[int, int] = (1, 1), padding: tuple[int, int] = (0, 0), dilation: tuple[int, int] = (1, 1)) -> NDArray:
    """Column matrix (C*KH*KW, OH*OW) of one image (C, H, W)."""

def linear_backward(dout: NDArray, x: NDArray, weight: NDArray, dx: Any = None, dweight: Any = None, dbias: Any = None) -> None:
    """Accumulates dx += dout @ weight, dweight += dout.T @ x, dbias += dout.sum(0) into the given arrays."""

def linear_forward(x: NDArray, weight: NDArray, bias: Any = None) -> NDArray:
    """x (N, IN), weight (OUT, IN), bias (OUT) -> x @ weight.T + bias (N, OUT)."""

def log_softmax_backward(dout: NDArray, y: NDArray, dx: Any, temperature: float = 1.0) -> None:
    """dx += (dout - exp(y) * sum(dout)) / temperature, y the log-softmax output."""

def log_softmax_forward(x: NDArray, temperature: float = 1.0) -> NDArray:
    """log softmax(x / temperature) over the last axis."""

def matmul(a: NDArray, b: NDArray, trans_a: bool = False, trans_b: bool = False) -> NDArray:
    """op(a) @ op(b) as a new array (a and b may be column slices of wider arrays)."""

def max_pool2d_backward(dout: NDArray, indices: NDArray, dx: Any, kernel_size: tuple[int, int], stride: tuple[int, int], padding: tuple[int, int] = (0, 0)) -> None:
    """dx (N, C, H, W) += dout routed to the positions in indices."""

def max_pool2d_forward(x: NDArray, kernel_size: tuple[int, int], stride: tuple[int, int], padding: tuple[int, int] = (0, 0)) -> tuple:
    """(out, indices): the max of each window and its flat position ih*W + iw in the input plane."""

def mse_backward(pred: NDArray, target: NDArray, dpred: Any, grad: float = 1.0) -> None:
    """dpred += grad * 2 / n * (pred - target)."""

def mse_forward(pred: NDArray, target: NDArray) -> float:
    """mean((pred - target)^2)."""

def rmsprop_update(params: Any, grads: Any, square_avgs: Any, momentum_buffers: Any, grad_avgs: Any, lr: float, alpha: float, eps: float, weight_decay: float, momentum: float, centered: bool) -> None:
    """torch.optim.RMSprop's step in place (momentum_buffers used when momentum > 0, grad_avgs when centered)."""

def select_isa(name: str) -> None:
    """Chooses the kernels: 'ref', 'avx2', 'avx512' or 'auto' (the best this CPU runs)."""

def set_num_threads(n: int) -> None:
    """Sets the threads the kernels use (ignored without OpenMP)."""

def sgd_update(params: Any, grads: Any, momentum_buffers: Any, lr: float, momentum: float, dampening: float, weight_decay: float, nesterov: bool, first_step: bool) -> None:
    """torch.optim.SGD's step on every array of params in place (momentum_buffers: None when momentum == 0)."""

def softmax_backward(dout: NDArray, y: NDArray, dx: Any, temperature: float = 1.0) -> None:
    """dx += y * (dout - sum(dout * y)) / temperature, y the softmax output."""

def softmax_forward(x: NDArray, temperature: float = 1.0) -> NDArray:
    """softmax(x / temperature) over the last axis."""

def ukernel_peak_gflops() -> float:
    """GFLOP/s of the float32 microkernel on one thread with its panels in L1: the ceiling GEMM rates are shares of."""

