"""A training run, fully described: defaults, then a CONFIG.toml, then command-line flags, checked once.

The resolved run is a plain dict of sections, written back as ``config.toml`` into the run directory so a
run can be repeated or resumed from it alone::

    seed = 0
    threads = 0                 # 0: every core (or OMP_NUM_THREADS)

    [data]
    name = "digits"             # digits | fashion-mnist | mnist | cifar10, or path = "folder|file.npz|file.csv"
    val_split = 0.1             # carved from train when the data has no validation split
    test_split = 0.0            # carved from the data (before val) when it has no test split
    normalize = true
    batch_size = 64
    shuffle = true
    drop_last = false
    image_size = []             # [height, width]: resize images to it ([]: they must all share one size)
    augment = []                # flip | crop | rotate | jitter: random changes to training images
    workers = 0                 # processes reading and transforming examples ahead of the training step
    skip_bad = false            # leave out unreadable images instead of stopping
    cache_images = "auto"       # auto | on | off: keep an image folder's decoded images in memory

    [model]
    preset = "mlp"              # mlp | lenet | cnn | resnet | path/to/net.py:MyNet, or a layer list (build.py):
    # layers = [{type = "Linear", out_features = 128}, {type = "ReLU"}, {type = "Linear"}]
    # num_classes = 10          # with preset = "net.py:MyNet", any other key is a keyword argument of
                                # MyNet(...), kept in args (see user_model.py)
    init = "default"            # default | xavier | xavier_normal | he | he_normal | normal | uniform | zeros | constant
    init_from = ""              # a .safetensors of pretrained weights (PyTorch-style keys)

    [training]
    epochs = 10
    task = "classification"     # classification | regression (float targets; MAE, RMSE, R2)
    loss = "auto"               # auto | cross_entropy | mse | l1

    [diagnostics]
    grad_norms = 0              # every N steps: per-layer gradient and weight norms (grad_norms.csv, .png)
    tensorboard = false         # event files in RUNDIR/tensorboard (needs tensorboardX)

    [optimizer]
    name = "adam"               # sgd | momentum | adagrad | rmsprop | adam | adamw
    lr = 0.001
    ...

Every key is declared once, in SETTINGS, with its default and its check. A mistake in any of it raises
ConfigError naming the key and what is wrong.
"""

import copy
import math
import numbers
import sys
from dataclasses import dataclass

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the backport has the same API
    import tomli as tomllib


class ConfigError(ValueError):
    """A configuration value that cannot be used; the message names the key."""


OPTIMIZERS = ("sgd", "momentum", "adagrad", "rmsprop", "adam", "adamw")
SCHEDULES = ("none", "step", "exponential", "cosine")
INIT_SCHEMES = ("default", "xavier", "xavier_normal", "he", "he_normal", "normal", "uniform", "zeros", "constant")
TASKS = ("classification", "regression")
LOSSES = ("auto", "cross_entropy", "mse", "l1")
REGRESSION_LOSSES = ("mse", "l1")
AUGMENTATIONS = ("flip", "crop", "rotate", "jitter")  # what each does: data/augment.py
CACHE_IMAGES = ("auto", "on", "off")  # what each does: data/image_cache.py


@dataclass(frozen=True)
class Setting:
    """One configuration key, declared once: its default, the kind of value, its bounds or choices, and
    what it means (the help of its command-line flag, if it has one)."""

    key: str  # dotted: section.name
    default: object
    kind: type  # int, float, bool, str, list or dict (a free table)
    low: float = None
    high: float = None
    low_open: bool = False
    choices: tuple = None
    help: str = ""


SETTINGS = (
    Setting("seed", 0, int, low=0, help="Seeds initialisation, shuffling, dropout and augmentation: same seed, "
                                        "same run."),
    Setting("threads", 0, int, low=0, help="Compute threads (default: OMP_NUM_THREADS, else all cores; under "
                                           "mpiexec each rank's share of its host's cores)."),
    Setting("data.name", "digits", str, help="digits (embedded), fashion-mnist, mnist or cifar10."),
    Setting("data.path", "", str, help="A folder (IDX files, CIFAR-10, or images: one subfolder per class), "
                                       "an .npz or a .csv."),
    Setting("data.val_split", 0.1, float, low=0.0, high=0.9,
            help="Fraction of train held out for validation (0 for none)."),
    Setting("data.test_split", 0.0, float, low=0.0, high=0.9,
            help="Fraction held out for testing when the data has no test split."),
    Setting("data.normalize", True, bool, help="Standardise each channel with the training set's statistics."),
    Setting("data.batch_size", 64, int, low=1, help="Examples per step."),
    Setting("data.shuffle", True, bool, help="A new order of the training examples every epoch."),
    Setting("data.drop_last", False, bool, help="Leave out the last, smaller batch of each epoch."),
    Setting("data.image_size", [], list, help="Resize every image to HEIGHT WIDTH (default: the images' own size)."),
    Setting("data.augment", [], list, choices=AUGMENTATIONS,
            help="Random changes to each training image: " + ", ".join(AUGMENTATIONS) + " (comma-separated)."),
    Setting("data.workers", 0, int, low=0, help="Worker processes that read and transform examples ahead of "
                                                "the training step (0: in the training process)."),
    Setting("data.skip_bad", False, bool, help="Leave out images that cannot be read (and say how many) instead "
                                               "of stopping."),
    Setting("data.cache_images", "auto", str, choices=CACHE_IMAGES,
            help="Keep the decoded images in memory (auto: when they take at most a quarter of the available "
                 "memory; off: decode every image every epoch)."),
    Setting("model.preset", "mlp", str, help="mlp, lenet, cnn or resnet, sized to the data; or FILE.py:Class, a "
                                             "network class of your own (arguments from the [model] table)."),
    Setting("model.args", {}, dict, help="Keyword arguments of a FILE.py:Class model (other [model] keys)."),
    Setting("model.sha256", "", str, help="The SHA-256 of a FILE.py:Class model's file, recorded by the run."),
    Setting("model.layers", [], list),
    Setting("model.hidden", [256, 128], list),
    Setting("model.dropout", 0.0, float, low=0.0, high=0.99),
    Setting("model.init", "default", str, choices=INIT_SCHEMES),
    Setting("model.init_from", "", str, help="Start from pretrained weights (PyTorch keys)."),
    Setting("optimizer.name", "adam", str, choices=OPTIMIZERS, help="The update rule."),
    Setting("optimizer.lr", 0.001, float, low=0.0, low_open=True, help="Learning rate."),
    Setting("optimizer.momentum", 0.9, float, low=0.0, high=0.999),
    Setting("optimizer.nesterov", False, bool),
    Setting("optimizer.weight_decay", 0.0, float, low=0.0, help="L2 weight decay (decoupled for adamw)."),
    Setting("optimizer.betas", [0.9, 0.999], list),
    Setting("optimizer.eps", 1e-8, float, low=0.0, low_open=True),
    Setting("optimizer.alpha", 0.99, float, low=0.0, high=1.0),
    Setting("schedule.name", "none", str, choices=SCHEDULES,
            help="How the learning rate changes from epoch to epoch (cosine: down to eta_min over the run)."),
    Setting("schedule.step_size", 10, int, low=1),
    Setting("schedule.gamma", 0.1, float, low=0.0, low_open=True),
    Setting("schedule.t_max", 0, int, low=0),
    Setting("schedule.eta_min", 0.0, float, low=0.0),
    Setting("schedule.warmup_epochs", 0, int, low=0),
    Setting("regularization.l1", 0.0, float, low=0.0),
    Setting("regularization.l2", 0.0, float, low=0.0),
    Setting("regularization.label_smoothing", 0.0, float, low=0.0, high=1.0),
    Setting("regularization.clip_grad_norm", 0.0, float, low=0.0),
    Setting("training.epochs", 10, int, low=1, help="Epochs to train (with --resume: the new total)."),
    Setting("training.early_stopping", 0, int, low=0),
    Setting("training.task", "classification", str, choices=TASKS,
            help="classification (class labels; accuracy) or regression (float targets in an .npz or .csv; "
                 "MAE, RMSE and R2)."),
    Setting("training.loss", "auto", str, choices=LOSSES,
            help="auto (cross_entropy for classification, mse for regression), cross_entropy, mse or l1."),
    Setting("diagnostics.grad_norms", 0, int, low=0,
            help="Every N steps (10 if N is left out), each layer's gradient and weight norms into "
                 "RUNDIR/grad_norms.csv and grad_norms.png, with a warning when a layer's gradient vanishes or "
                 "explodes (0: off)."),
    Setting("diagnostics.tensorboard", False, bool,
            help="TensorBoard event files in RUNDIR/tensorboard: losses, metrics, learning rate, gradient norms, "
                 "weight histograms (needs tensorboardX: pip install 'nntrain[tensorboard]')."),
)
SETTING = {s.key: s for s in SETTINGS}


def nested(flat):
    """{"a.b": 1} -> {"a": {"b": 1}}: dotted keys as the sections of a configuration."""
    out = {}
    for dotted, value in flat.items():
        section, _, key = dotted.rpartition(".")
        (out.setdefault(section, {}) if section else out)[key] = value
    return out


DEFAULTS = nested({s.key: s.default for s in SETTINGS})


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
        if key not in out and where == "model." and isinstance(out.get("args"), dict):
            # a key [model] does not know: a keyword argument of a FILE.py:Class model (check() refuses it
            # for any other model)
            out["args"] = dict(out["args"], **{key: copy.deepcopy(value)})
            continue
        if key not in out:
            known = ", ".join(sorted(out))
            raise ConfigError(f"unknown setting '{name}' (known{' in [' + where[:-1] + ']' if where else ''}: {known})")
        if isinstance(out[key], dict) and getattr(SETTING.get(name), "kind", None) is dict:
            if not isinstance(value, dict):
                raise ConfigError(f"'{name}' must be a table, got {_kind(value)}")
            out[key] = dict(out[key], **copy.deepcopy(value))
        elif isinstance(out[key], dict):
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


def _expect(config, setting):
    section, _, key = setting.key.rpartition(".")
    value = config[section][key] if section else config[key]
    kind, dotted = setting.kind, setting.key
    if kind is int:
        ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    elif kind is float:
        ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    else:
        ok = isinstance(value, kind)
    if not ok:
        want = {int: "an integer", float: "a number", bool: "true or false", str: "a string", list: "a list",
                dict: "a table"}[kind]
        raise ConfigError(f"'{dotted}' must be {want}, got {value!r}")
    for item in (value if kind is list else [value]) if setting.choices is not None else ():
        if item not in setting.choices:
            raise ConfigError(f"'{dotted}': unknown value '{item}' (choose from {', '.join(setting.choices)})")
    low, high = setting.low, setting.high
    if low is not None and (value <= low if setting.low_open else value < low):
        raise ConfigError(f"'{dotted}' must be {'>' if setting.low_open else '>='} {low}, got {value}")
    if high is not None and value > high:
        raise ConfigError(f"'{dotted}' must be <= {high}, got {value}")


def is_model_file(preset):
    """Whether model.preset names a class in the user's own file (FILE.py:ClassName) rather than a preset."""
    return ":" in preset or preset.endswith(".py")


def _positive_ints(value):
    return all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value)


def check(config):
    """Raises ConfigError for the first value that cannot be used."""
    from .presets import PRESETS

    for setting in SETTINGS:
        _expect(config, setting)
    m = config["model"]
    from_file = is_model_file(m["preset"]) and not m["layers"]
    if from_file:
        from .user_model import parse_spec

        parse_spec(m["preset"])
    elif not m["layers"] and m["preset"] not in PRESETS:
        raise ConfigError(f"'model.preset': unknown preset '{m['preset']}' "
                          f"(choose from {', '.join(PRESETS)}, give model.layers, or FILE.py:ClassName)")
    if m["args"] and not from_file:
        known = ", ".join(k for k in m if k != "args")
        raise ConfigError(f"unknown setting 'model.{next(iter(m['args']))}' (known in [model]: {known}; other keys "
                          "are constructor arguments of a model from a file, preset = \"FILE.py:ClassName\")")
    if not _positive_ints(config["model"]["hidden"]):
        raise ConfigError(f"'model.hidden' must be a list of positive integers, got {config['model']['hidden']!r}")
    betas = config["optimizer"]["betas"]
    if len(betas) != 2 or not all(isinstance(b, (int, float)) and not isinstance(b, bool) and 0 <= b < 1 for b in betas):
        raise ConfigError(f"'optimizer.betas' must be two numbers in [0, 1), got {betas!r}")
    t = config["training"]
    if t["task"] == "regression" and t["loss"] == "cross_entropy":
        raise ConfigError("'training.loss' = cross_entropy compares class scores with labels; regression takes "
                          f"{' or '.join(REGRESSION_LOSSES)}")
    if t["task"] == "classification" and t["loss"] in REGRESSION_LOSSES:
        raise ConfigError(f"'training.loss' = {t['loss']} is a regression loss; give --task regression, or use "
                          "cross_entropy for class labels")
    if t["task"] == "regression" and config["regularization"]["label_smoothing"]:
        raise ConfigError("'regularization.label_smoothing' smooths class labels; regression has none")
    d = config["data"]
    if d["image_size"] and (len(d["image_size"]) != 2 or not _positive_ints(d["image_size"])):
        raise ConfigError(f"'data.image_size' must be [height, width] (positive integers) or [], "
                          f"got {d['image_size']!r}")
    if d["val_split"] + d["test_split"] >= 1:
        raise ConfigError(f"'data.val_split' + 'data.test_split' must be < 1, got {d['val_split']} + "
                          f"{d['test_split']}")


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
