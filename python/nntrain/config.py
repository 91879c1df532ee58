"""A training run, fully described: defaults, then a CONFIG.toml, then command-line flags, checked once.

The resolved run is a plain dict of sections, written back as ``config.toml`` into the run directory so a
run can be repeated or resumed from it alone::

    seed = 0
    threads = 0                 # 0: every core (or OMP_NUM_THREADS)

    [data]
    name = "digits"             # digits | fashion-mnist | mnist | cifar10, or path = "folder|file.npz|file.csv"
    val_split = 0.1             # carved from train when the data has no validation split
    normalize = true
    batch_size = 64
    shuffle = true
    drop_last = false

    [model]
    preset = "mlp"              # mlp | lenet | cnn | resnet, or a layer list (see build.py):
    # layers = [{type = "Linear", out_features = 128}, {type = "ReLU"}, {type = "Linear"}]
    init = "default"            # default | xavier | xavier_normal | he | he_normal | normal | uniform | zeros | constant
    init_from = ""              # a .safetensors of pretrained weights (PyTorch-style keys)

    [optimizer]
    name = "adam"               # sgd | momentum | adagrad | rmsprop | adam | adamw
    lr = 0.001
    ...

A mistake in any of it raises ConfigError naming the key and what is wrong.
"""

import copy
import math
import numbers
import sys

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the backport has the same API
    import tomli as tomllib


class ConfigError(ValueError):
    """A configuration value that cannot be used; the message names the key."""


OPTIMIZERS = ("sgd", "momentum", "adagrad", "rmsprop", "adam", "adamw")
SCHEDULES = ("none", "step", "exponential", "cosine")
INIT_SCHEMES = ("default", "xavier", "xavier_normal", "he", "he_normal", "normal", "uniform", "zeros", "constant")

DEFAULTS = {
    "seed": 0,
    "threads": 0,
    "data": {"name": "digits", "path": "", "val_split": 0.1, "normalize": True, "batch_size": 64, "shuffle": True,
             "drop_last": False},
    "model": {"preset": "mlp", "layers": [], "hidden": [256, 128], "dropout": 0.0, "init": "default",
              "init_from": ""},
    "optimizer": {"name": "adam", "lr": 0.001, "momentum": 0.9, "nesterov": False, "weight_decay": 0.0,
                  "betas": [0.9, 0.999], "eps": 1e-8, "alpha": 0.99},
    "schedule": {"name": "none", "step_size": 10, "gamma": 0.1, "t_max": 0, "eta_min": 0.0, "warmup_epochs": 0},
    "regularization": {"l1": 0.0, "l2": 0.0, "label_smoothing": 0.0, "clip_grad_norm": 0.0},
    "training": {"epochs": 10, "early_stopping": 0},
}


def default_config():
    return copy.deepcopy(DEFAULTS)


def read_toml(path):
    """The TOML file at ``path`` as a dict; an unreadable file or bad TOML is a ConfigError naming it."""
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory, expected a .toml file") from None
    except OSError as e:
        raise ConfigError(f"{path}: cannot read ({e.strerror})") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: invalid TOML: {e}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: invalid TOML: not UTF-8 text") from None


def merge(base, overrides, where=""):
    """``base`` updated by ``overrides`` section by section; an unknown key is a ConfigError."""
    out = copy.deepcopy(base)
    for key, value in overrides.items():
        name = f"{where}{key}"
        if key not in out:
            known = ", ".join(sorted(out))
            raise ConfigError(f"unknown setting '{name}' (known{' in [' + where[:-1] + ']' if where else ''}: {known})")
        if isinstance(out[key], dict):
            if not isinstance(value, dict):
                raise ConfigError(f"'{name}' must be a [{name}] table, got {_kind(value)}")
            out[key] = merge(out[key], value, name + ".")
        else:
            out[key] = value
    return out


def resolve(toml_path=None, overrides=None):
    """Defaults, then the TOML file, then ``overrides`` (a nested dict of flags that were given), checked."""
    config = default_config()
    if toml_path:
        config = merge(config, read_toml(toml_path))
    if overrides:
        config = merge(config, overrides)
    check(config)
    return config


def _kind(value):
    return {bool: "a boolean", str: "a string", list: "a list", dict: "a table"}.get(type(value), type(value).__name__)


def _expect(config, dotted, kind, low=None, high=None, low_open=False, choices=None):
    section, _, key = dotted.rpartition(".")
    value = config[section][key] if section else config[key]
    if kind is int:
        ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    elif kind is float:
        ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    else:
        ok = isinstance(value, kind)
    if not ok:
        want = {int: "an integer", float: "a number", bool: "true or false", str: "a string", list: "a list"}[kind]
        raise ConfigError(f"'{dotted}' must be {want}, got {value!r}")
    if choices is not None and value not in choices:
        raise ConfigError(f"'{dotted}': unknown value '{value}' (choose from {', '.join(choices)})")
    if low is not None and (value <= low if low_open else value < low):
        raise ConfigError(f"'{dotted}' must be {'>' if low_open else '>='} {low}, got {value}")
    if high is not None and value > high:
        raise ConfigError(f"'{dotted}' must be <= {high}, got {value}")


def check(config):
    """Raises ConfigError for the first value that cannot be used."""
    from .presets import PRESETS

    _expect(config, "seed", int, low=0)
    _expect(config, "threads", int, low=0)
    _expect(config, "data.name", str)
    _expect(config, "data.path", str)
    _expect(config, "data.val_split", float, low=0.0, high=0.9)
    _expect(config, "data.normalize", bool)
    _expect(config, "data.batch_size", int, low=1)
    _expect(config, "data.shuffle", bool)
    _expect(config, "data.drop_last", bool)
    _expect(config, "model.preset", str)
    _expect(config, "model.layers", list)
    if not config["model"]["layers"] and config["model"]["preset"] not in PRESETS:
        raise ConfigError(f"'model.preset': unknown preset '{config['model']['preset']}' "
                          f"(choose from {', '.join(PRESETS)}, or give model.layers)")
    _expect(config, "model.hidden", list)
    if not all(isinstance(h, int) and not isinstance(h, bool) and h > 0 for h in config["model"]["hidden"]):
        raise ConfigError(f"'model.hidden' must be a list of positive integers, got {config['model']['hidden']!r}")
    _expect(config, "model.dropout", float, low=0.0, high=0.99)
    _expect(config, "model.init", str, choices=INIT_SCHEMES)
    _expect(config, "model.init_from", str)
    _expect(config, "optimizer.name", str, choices=OPTIMIZERS)
    _expect(config, "optimizer.lr", float, low=0.0, low_open=True)
    _expect(config, "optimizer.momentum", float, low=0.0, high=0.999)
    _expect(config, "optimizer.nesterov", bool)
    _expect(config, "optimizer.weight_decay", float, low=0.0)
    _expect(config, "optimizer.betas", list)
    betas = config["optimizer"]["betas"]
    if len(betas) != 2 or not all(isinstance(b, (int, float)) and not isinstance(b, bool) and 0 <= b < 1 for b in betas):
        raise ConfigError(f"'optimizer.betas' must be two numbers in [0, 1), got {betas!r}")
    _expect(config, "optimizer.eps", float, low=0.0, low_open=True)
    _expect(config, "optimizer.alpha", float, low=0.0, high=1.0)
    _expect(config, "schedule.name", str, choices=SCHEDULES)
    _expect(config, "schedule.step_size", int, low=1)
    _expect(config, "schedule.gamma", float, low=0.0, low_open=True)
    _expect(config, "schedule.t_max", int, low=0)
    _expect(config, "schedule.eta_min", float, low=0.0)
    _expect(config, "schedule.warmup_epochs", int, low=0)
    _expect(config, "regularization.l1", float, low=0.0)
    _expect(config, "regularization.l2", float, low=0.0)
    _expect(config, "regularization.label_smoothing", float, low=0.0, high=1.0)
    _expect(config, "regularization.clip_grad_norm", float, low=0.0)
    _expect(config, "training.epochs", int, low=1)
    _expect(config, "training.early_stopping", int, low=0)


# ---- writing the resolved run back out ------------------------------------------------------------------
def _toml_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        return repr(float(value))
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
        return f'"{escaped}"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()) + "}"
    raise ConfigError(f"cannot write {value!r} to TOML")


def _toml_key(key):
    return key if key.replace("_", "").replace("-", "").isalnum() else _toml_value(key)


def to_toml(config):
    """TOML text that ``read_toml`` reads back into the same dict (layer lists as inline tables)."""
    lines = [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in config.items() if not isinstance(v, dict)]
    for section, table in config.items():
        if not isinstance(table, dict):
            continue
        lines += ["", f"[{_toml_key(section)}]"]
        for k, v in table.items():
            if k == "layers" and isinstance(v, list) and v:
                lines.append(f"{k} = [")
                lines += [f"  {_toml_value(layer)}," for layer in v]
                lines.append("]")
            else:
                lines.append(f"{_toml_key(k)} = {_toml_value(v)}")
    return "\n".join(lines) + "\n"
