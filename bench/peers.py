"""The libraries nntrain is measured against, found at run time: NumPy (always) and PyTorch (optional)."""

NOT_INSTALLED = "not installed"


def torch_or_none(threads=None):
    """The torch module with its thread count set, or None when PyTorch is not importable."""
    try:
        import torch
    except ImportError:
        return None
    if threads is not None:
        torch.set_num_threads(threads)
    return torch


def torch_version():
    torch = torch_or_none()
    return NOT_INSTALLED if torch is None else torch.__version__


def torch_preset(name, input_shape, classes):
    """The same network as nntrain's preset `name`, written in torch.nn (default NCHW, float32)."""
    import torch.nn as tnn

    c, h, w = input_shape
    if name == "mlp":
        return tnn.Sequential(tnn.Flatten(), tnn.Linear(c * h * w, 256), tnn.ReLU(), tnn.Linear(256, 128), tnn.ReLU(),
                              tnn.Linear(128, classes))
    if name == "cnn":
        return tnn.Sequential(
            tnn.Conv2d(c, 32, 3, padding=1, bias=False), tnn.BatchNorm2d(32), tnn.ReLU(), tnn.MaxPool2d(2),
            tnn.Conv2d(32, 64, 3, padding=1, bias=False), tnn.BatchNorm2d(64), tnn.ReLU(), tnn.MaxPool2d(2),
            tnn.Flatten(), tnn.Linear(64 * (h // 4) * (w // 4), 128), tnn.ReLU(), tnn.Linear(128, classes))
    raise ValueError(f"no torch twin for preset {name!r}")
