"""nntrain: train small neural networks fast on a CPU.

OpenMP C++ kernels (``nntrain._core``) under a PyTorch-like Python API:

    nntrain.Tensor       an array that records the ops applied to it; loss.backward() applies the chain rule
    nntrain.autograd     Function (an op's forward/backward pair), no_grad, the backward engine
    nntrain.functional   stateless ops and their backward functions
    nntrain.nn           layers, losses, initialisers (a network is a Sequential of them)
    nntrain.optim        optimisers, gradient clipping and learning-rate schedules
    nntrain.data         readers (IDX, CIFAR-10, .npz, .csv), the embedded digits, DataLoader
    nntrain.Trainer      the training loop;  nntrain.evaluate  loss, accuracy, confusion matrix
    nntrain.Model        prepare / fit / evaluate / predict / save / load over the Trainer (PaddlePaddle hapi's names)
    nntrain.metric       accuracy, precision, recall, F1, confusion matrix, MAE, RMSE, R2
    nntrain.callbacks    early stopping, checkpoints, LR on plateau, schedules, stop at a threshold,
                         gradient norms;  nntrain.tensorboard  TensorBoard event files
    nntrain.lr_find      the learning-rate range test
    nntrain.summary      the Layer | Input Shape | Output Shape | Param # table
    nntrain.gradcheck    numerical against analytic gradients, per layer
"""

__version__ = "0.1.0"

import importlib

# Everything is imported on first use (PEP 562), so `nntrain --help` does not pay for NumPy and the
# compiled core. Functions exported here live in modules named differently (model_summary, not summary),
# so that importing a module can never shadow the function of the same name.
_LAZY = {"functional": None, "nn": None, "optim": None, "data": None, "presets": None, "checkpoint": None,
         "autograd": None, "gradcheck": "gradient_check", "summary": "model_summary", "Trainer": "train",
         "evaluate": "train", "Tensor": "_tensor", "tensor": "_tensor", "is_tensor": "_tensor", "matmul": "ops",
         "cat": "ops", "stack": "ops", "split": "ops", "chunk": "ops", "no_grad": "autograd",
         "enable_grad": "autograd", "set_grad_enabled": "autograd", "is_grad_enabled": "autograd",
         "metric": None, "callbacks": None, "tensorboard": None, "lr_find": "lr_finder",
         "GradientWarning": "callbacks", "Model": "model"}


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f"module 'nntrain' has no attribute '{name}'")
    module = _LAZY[name]
    value = importlib.import_module(f".{module or name}", __name__)
    if module is not None:
        value = getattr(value, name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))


__all__ = ["__version__", "GradientWarning", "Model", "Tensor", "Trainer", "autograd", "build_info", "callbacks", "cat",
           "chunk", "data", "enable_grad", "evaluate", "functional", "get_num_threads", "gradcheck",
           "is_grad_enabled", "is_tensor", "lr_find", "matmul", "metric", "nn", "no_grad", "optim",
           "set_grad_enabled", "set_num_threads", "split", "stack", "summary", "tensor", "tensorboard"]


def build_info() -> dict:
    """How the compiled core was built and what it runs with.

    Keys: ``version``, ``compiler``, ``openmp`` (False: built without OpenMP, single-threaded),
    ``threads``, ``isa`` (the SIMD kernels in use: ``avx512``, ``avx2`` or ``ref``), ``isa_supported``
    (the best this CPU runs), ``isa_note`` (why ``NNTRAIN_ISA`` was not honoured, or empty), ``baseline``
    (the instruction set the code outside the per-ISA kernels was compiled for: ``ref``, baseline x86-64) and
    ``flush_denormals`` (the compute threads flush denormals to zero) and ``keep_freed_memory`` (freed
    memory stays in the heap for the next step instead of being unmapped; ``NNTRAIN_KEEP_FREED_MEMORY=0``
    turns this off).
    """
    from . import _core

    info = {"version": __version__}
    info.update(_core.build_info())
    return info


def get_num_threads() -> int:
    """Number of threads the kernels use (initially ``OMP_NUM_THREADS``, else the core count)."""
    from . import _core

    return _core.get_num_threads()


def set_num_threads(n: int) -> None:
    """Set the number of threads the kernels use; ``n`` must be at least 1."""
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"set_num_threads: expected an int, got {type(n).__name__}")
    from . import _core

    _core.set_num_threads(n)
