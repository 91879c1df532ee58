"""The libraries nntrain is measured against, found at run time: NumPy (always), PyTorch and JAX (optional:
their columns read "not installed" without them)."""

import json
import os
import subprocess
import sys

from nntrain import presets

NOT_INSTALLED = "not installed"


def _openblas():
    """NumPy's OpenBLAS as a ctypes library with its (prefixed) names, or None when it cannot be found."""
    import ctypes

    import numpy  # noqa: F401  (loads the library)

    with open("/proc/self/maps") as maps:
        paths = sorted({line.split()[-1] for line in maps if "openblas" in line.lower() and ".so" in line})
    for path in paths:
        lib = ctypes.CDLL(path)
        for prefix in ("scipy_openblas", "openblas"):
            for suffix in ("64_", ""):
                setter = getattr(lib, f"{prefix}_set_num_threads{suffix}", None)
                corename = getattr(lib, f"{prefix}_get_corename{suffix}", None)
                if setter is not None and corename is not None:
                    corename.restype = ctypes.c_char_p
                    return setter, corename
    return None


def numpy_blas(threads):
    """Limits NumPy's OpenBLAS to `threads` (so a 1-thread table compares like with like) and returns a
    description of it, e.g. "OpenBLAS SkylakeX, 2 threads" (OPENBLAS_CORETYPE=Haswell picks the AVX2
    kernels for an AVX2 comparison on an AVX-512 machine)."""
    try:
        found = _openblas()
    except OSError:
        found = None
    if found is None:
        return "BLAS (thread count not controlled)"
    setter, corename = found
    setter(int(threads))
    return f"OpenBLAS {corename().decode()}, {threads} thread(s)"


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
    """e.g. "2.13.0+cpu (AVX512)": the version and the vector width ATen's kernels dispatch to (ATEN_CPU_CAPABILITY
    and, for oneDNN's convolutions and GEMM, DNNL_MAX_CPU_ISA limit it: see README.md, "Speed")."""
    torch = torch_or_none()
    if torch is None:
        return NOT_INSTALLED
    capability = getattr(getattr(torch.backends, "cpu", None), "get_cpu_capability", None)
    return f"{torch.__version__} ({capability()})" if capability else torch.__version__


def torch_preset(name, input_shape, classes):
    """The same network as nntrain's preset `name`, written in torch.nn (default NCHW, float32)."""
    import torch.nn as tnn

    c, h, w = input_shape
    if name == "mlp":
        return tnn.Sequential(tnn.Flatten(), tnn.Linear(c * h * w, 256), tnn.ReLU(), tnn.Linear(256, 128), tnn.ReLU(),
                              tnn.Linear(128, classes))
    if name == "cnn":
        layers = []
        for stage in presets.CNN_STAGES:
            for cout in stage:
                layers += [tnn.Conv2d(c, cout, 3, padding=1, bias=False), tnn.BatchNorm2d(cout), tnn.ReLU()]
                c = cout
            if presets.pooled_size(h, w) != (h, w):
                layers.append(tnn.MaxPool2d(2))
                h, w = presets.pooled_size(h, w)
        return tnn.Sequential(*layers, tnn.Flatten(), tnn.Linear(c * h * w, presets.CNN_HIDDEN), tnn.ReLU(),
                              tnn.Linear(presets.CNN_HIDDEN, classes))
    raise ValueError(f"no torch twin for preset {name!r}")


def jax_or_none():
    """The jax module when JAX and optax are importable (CPU only), else None."""
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    try:
        import jax
        import optax  # noqa: F401  (the training peer needs it)
    except ImportError:
        return None
    return jax


def jax_version():
    jax = jax_or_none()
    return NOT_INSTALLED if jax is None else jax.__version__


class JaxPeer:
    """The JAX twin of `preset` (bench.jax_models) in a child process limited to `threads` cores (XLA fixes
    its thread pool at start-up, so a thread count needs a process of its own), compiled and warmed up once;
    each `rate()` times one pass of `steps` steps there and returns its samples/s, so JAX's passes can
    alternate with the other libraries' in the parent, as theirs do with each other. A context manager."""

    def __init__(self, preset, threads, steps, warmup, input_shape, classes):
        self.preset = preset
        args = json.dumps({"preset": preset, "threads": threads, "steps": steps, "warmup": warmup,
                           "input": list(input_shape), "classes": classes})
        env = dict(os.environ, JAX_PLATFORMS="cpu", PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
        if threads == 1:
            env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen=false").strip()
        self.proc = subprocess.Popen([sys.executable, "-m", "bench.jax_models", args], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        self._reply()  # {"ready": true}: compiled and warmed up

    def _reply(self):
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait()
            raise RuntimeError(f"the JAX {self.preset} run failed: {self.proc.stderr.read().strip().splitlines()[-1:]}")
        return json.loads(line)

    def rate(self):
        self.proc.stdin.write("run\n")
        self.proc.stdin.flush()
        return self._reply()["rate"]

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def jax_training_rate(preset, threads, steps, warmup, input_shape, classes):
    """Samples/s of one pass of `steps` steps of the JAX twin of `preset` (see JaxPeer)."""
    with JaxPeer(preset, threads, steps, warmup, input_shape, classes) as peer:
        return peer.rate()
