"""A network class from the user's own Python file: ``nntrain train --model path/to/net.py:MyNet``.

The file is imported as a module of its own (it may import nntrain, NumPy and its neighbours), the class must
be a ``nntrain.nn.Module`` subclass, and it is built with the keyword arguments of the run's ``[model]`` table
(``args``). The run records the file's path and SHA-256, so that resuming, evaluating or exporting later can
refuse a file that has changed since training. Every mistake is a ConfigError of one line naming the file
(and, for an error inside it, the line).
"""

import hashlib
import importlib.util
import inspect
import os
import sys
import traceback

from .config import ConfigError


def parse_spec(spec):
    """'path/to/net.py:MyNet' -> (path, 'MyNet')."""
    path, sep, name = str(spec).rpartition(":")
    if not sep or not path.endswith(".py") or not name.isidentifier():
        raise ConfigError(f"--model {spec}: expected a preset name or FILE.py:ClassName, e.g. net.py:MyNet")
    return path, name


def file_digest(path):
    """The SHA-256 of a model file (hex), recorded with the run."""
    try:
        with open(path, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()
    except OSError as e:
        raise ConfigError(f"{path}: cannot read the model file ({e.strerror})") from None


def record(model_config):
    """The [model] settings of a new run from a file: the file's absolute path (so that a run resumed or
    evaluated from another directory finds it) and its SHA-256."""
    path, name = parse_spec(model_config["preset"])
    if not os.path.isfile(path):
        raise ConfigError(f"{path}: no such model file")
    return dict(model_config, preset=f"{os.path.abspath(path)}:{name}", sha256=file_digest(path))


def check_unchanged(model_config):
    """Refuses a model file that is gone or differs from the one the run recorded (model.sha256)."""
    path, _ = parse_spec(model_config["preset"])
    recorded = model_config.get("sha256")
    if not recorded:
        return
    if not os.path.isfile(path):
        raise ConfigError(f"{path}: the model file this run was trained from is gone (restore it to go on)")
    now = file_digest(path)
    if now != recorded:
        raise ConfigError(f"{path}: the model file changed since this run was trained (sha256 {recorded[:12]}... "
                          f"then, {now[:12]}... now); restore it, or train a new run")


def where(error, path):
    """'net.py:12' for the deepest frame of ``error`` inside the user's file."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if os.path.abspath(f.filename) == os.path.abspath(path)]
    if isinstance(error, SyntaxError) and error.lineno:
        return f"{path}:{error.lineno}"
    return f"{path}:{frames[-1].lineno}" if frames else path


def load_class(spec):
    """The Module subclass named by ``spec`` (FILE.py:ClassName)."""
    from .nn import Module

    path, name = parse_spec(spec)
    if not os.path.isfile(path):
        raise ConfigError(f"{path}: no such model file")
    module_name = f"nntrain_user_model_{file_digest(path)[:16]}"
    module = sys.modules.get(module_name)
    if module is None:
        loader_spec = importlib.util.spec_from_file_location(module_name, path)
        module = importlib.util.module_from_spec(loader_spec)
        sys.path.insert(0, os.path.dirname(os.path.abspath(path)))  # its own imports of neighbouring files
        try:
            loader_spec.loader.exec_module(module)
        except Exception as e:  # the user's code: report where, in one line
            raise ConfigError(f"{where(e, path)}: {type(e).__name__}: {e}") from None
        finally:
            sys.path.pop(0)
        sys.modules[module_name] = module
    cls = getattr(module, name, None)
    if cls is None:
        found = [n for n, v in vars(module).items() if isinstance(v, type) and issubclass(v, Module) and v is not Module]
        raise ConfigError(f"{path}: defines no class {name}" + (f" (it has {', '.join(found)})" if found else ""))
    if not (isinstance(cls, type) and issubclass(cls, Module)):
        raise ConfigError(f"{path}:{name} is not a subclass of nntrain.nn.Module")
    return cls


def build(spec, args, rng):
    """An instance of the class, built with ``args`` (and the run's ``rng`` when its __init__ takes one)."""
    cls = load_class(spec)
    path, name = parse_spec(spec)
    kwargs = dict(args or {})
    if "rng" in inspect.signature(cls.__init__).parameters:
        kwargs.setdefault("rng", rng)
    try:
        return cls(**kwargs)
    except Exception as e:
        raise ConfigError(f"{where(e, path)}: {name}({', '.join(f'{k}=...' for k in args or {})}) failed: "
                          f"{type(e).__name__}: {e}") from None
