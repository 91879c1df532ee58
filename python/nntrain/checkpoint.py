"""Weights and checkpoints on disk: safetensors for arrays, JSON for everything else; never pickle.

Every write is atomic: a temporary file in the same directory is written, flushed and fsynced, then
renamed over the target, and the directory is fsynced. A crash at any moment leaves the old file or the
new one, complete. Reading checks the file and says what is wrong with it, naming it.

A weights file (``model.safetensors``) holds the model's state_dict under PyTorch-style keys, so
``torch.nn`` models of the same architecture load it. A checkpoint holds the model under ``model.*``,
the optimiser's state arrays under ``optim.<param index>.<name>`` and, as JSON in the safetensors header,
the optimiser's hyper-parameters and step counts, the scheduler, the epoch, the random generator's state
and whatever else the trainer records: everything needed to resume exactly. NumPy arrays inside that
record (a callback's best weights) are stored as tensors ``meta.<n>`` and put back in place on reading.
"""

import json
import os
import tempfile

import numpy as np

FORMAT = "nntrain"


class CheckpointError(ValueError):
    """A weights or checkpoint file that cannot be used; the message names the file."""


def atomic_write_bytes(path, data):
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-" + os.path.basename(path) + "-", dir=directory)
    try:
        # mkstemp makes the file private (0600); give it the permissions open() would have.
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _encode(tensors, metadata):
    from safetensors.numpy import save

    # asarray(order="C"), not ascontiguousarray, which would store a 0-d array (num_batches_tracked) as (1,).
    arrays = {k: np.asarray(v, order="C") for k, v in tensors.items()}
    return save(arrays, metadata={k: json.dumps(v) for k, v in metadata.items()})


def _decode(path):
    """(tensors, metadata) of a safetensors file, or CheckpointError naming the file and the problem."""
    from safetensors.numpy import load

    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise CheckpointError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise CheckpointError(f"{path}: is a directory, not a weights file") from None
    except OSError as e:
        raise CheckpointError(f"{path}: cannot read: {e.strerror}") from None
    if len(raw) < 8:
        raise CheckpointError(f"{path}: not a safetensors file (only {len(raw)} bytes)")
    header_len = int.from_bytes(raw[:8], "little")
    if header_len > len(raw) - 8:
        raise CheckpointError(f"{path}: truncated or not a safetensors file (header of {header_len} bytes "
                              f"declared, {len(raw) - 8} present)")
    try:
        header = json.loads(raw[8:8 + header_len])
        tensors = load(raw)
    except Exception as e:  # safetensors raises its own error types for every kind of damage
        raise CheckpointError(f"{path}: corrupt safetensors file ({e})") from None
    meta_raw = header.get("__metadata__") or {}
    try:
        metadata = {k: json.loads(v) for k, v in meta_raw.items()}
    except (TypeError, ValueError):
        metadata = dict(meta_raw)
    return tensors, metadata


def save_weights(model, path, meta=None):
    """Writes the model's state_dict (PyTorch key names) to a safetensors file, atomically. ``meta``
    (JSON-serialisable) rides along in the header as "run": what a reader needs to rebuild and feed the model."""
    from . import __version__

    header = {"format": FORMAT, "nntrain_version": __version__}
    if meta is not None:
        header["run"] = meta
    atomic_write_bytes(path, _encode(model.state_dict(), header))


def load_weights(path, with_meta=False):
    """The state_dict stored in a weights file (also reads files saved by PyTorch's safetensors);
    with ``with_meta``, also the header's metadata as a dict."""
    tensors, metadata = _decode(path)
    return (tensors, metadata) if with_meta else tensors


def save_checkpoint(path, model, optimizer=None, scheduler=None, **meta):
    """Model, optimiser and scheduler state plus ``meta`` (epoch, rng state, history...): JSON values and
    NumPy arrays. ``model`` None leaves the weights out (``Model.save`` keeps them in a weights file beside)."""
    from . import __version__

    tensors = {} if model is None else {f"model.{k}": v for k, v in model.state_dict().items()}
    info = {"format": FORMAT, "kind": "checkpoint", "nntrain_version": __version__}
    if optimizer is not None:
        osd = optimizer.state_dict()
        for i, st in osd["state"].items():
            for name, arr in st.items():
                tensors[f"optim.{i}.{name}"] = arr
        info["optimizer"] = {"type": type(optimizer).__name__, "param_groups": osd["param_groups"]}
    if scheduler is not None:
        info["scheduler"] = {"type": type(scheduler).__name__, "state": scheduler.state_dict()}
    info["meta"] = _arrays_out(meta, tensors)
    atomic_write_bytes(path, _encode(tensors, {"nntrain": info}))


_TENSOR = "__tensor__"


def _arrays_out(value, tensors):
    """``value`` with every NumPy array replaced by {"__tensor__": key}, the array moved to tensors[key]."""
    if isinstance(value, np.ndarray):
        key = f"meta.{len(tensors)}"  # unique: every other key starts with model. or optim.
        tensors[key] = value
        return {_TENSOR: key}
    if isinstance(value, dict):
        return {k: _arrays_out(v, tensors) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_arrays_out(v, tensors) for v in value]
    return value


def _arrays_in(value, tensors):
    if isinstance(value, dict):
        if set(value) == {_TENSOR}:
            return tensors[value[_TENSOR]]
        return {k: _arrays_in(v, tensors) for k, v in value.items()}
    if isinstance(value, list):
        return [_arrays_in(v, tensors) for v in value]
    return value


class Checkpoint:
    """What load_checkpoint read: model_state, optimizer_state (or None), scheduler_state, meta."""

    def __init__(self, path, model_state, optimizer_type, optimizer_state, scheduler_state, meta):
        self.path, self.model_state, self.meta = path, model_state, meta
        self.optimizer_type, self.optimizer_state, self.scheduler_state = optimizer_type, optimizer_state, scheduler_state


def load_checkpoint(path):
    tensors, metadata = _decode(path)
    info = metadata.get("nntrain")
    if not isinstance(info, dict) or info.get("kind") != "checkpoint":
        raise CheckpointError(f"{os.fspath(path)}: not an nntrain checkpoint (no checkpoint metadata)")
    model_state = {k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")}
    optimizer_state = None
    if "optimizer" in info:
        state = {}
        for k, v in tensors.items():
            if k.startswith("optim."):
                _, i, name = k.split(".", 2)
                state.setdefault(int(i), {})[name] = v
        groups = info["optimizer"]["param_groups"]
        for g in groups:
            if "betas" in g:
                g["betas"] = tuple(g["betas"])
        optimizer_state = {"state": state, "param_groups": groups}
    sched = info.get("scheduler", {}).get("state")
    try:
        meta = _arrays_in(info.get("meta", {}), tensors)
    except KeyError as e:
        raise CheckpointError(f"{os.fspath(path)}: damaged checkpoint (tensor {e} is missing)") from None
    return Checkpoint(os.fspath(path), model_state, info.get("optimizer", {}).get("type"), optimizer_state, sched,
                      meta)
