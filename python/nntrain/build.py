"""From a resolved run configuration (config.py) to the objects that train: model, optimiser, schedule,
penalties.

A model is a preset sized to the data, or a list of layers in which every input size is inferred from the
layer before (a Linear's ``in_features``, a Conv2d's ``in_channels``, a BatchNorm's ``num_features``), and
a final Linear without ``out_features`` gets one output per class::

    layers = [
      {type = "Conv2d", out_channels = 8, kernel_size = 3, padding = 1}, {type = "BatchNorm2d"}, {type = "ReLU"},
      {type = "MaxPool2d", kernel_size = 2},
      {type = "Residual", block = [{type = "Conv2d", out_channels = 8, kernel_size = 3, padding = 1}, {type = "ReLU"}]},
      {type = "Flatten"}, {type = "Dropout", p = 0.2}, {type = "Linear"},
    ]

Shapes that do not chain are a ConfigError naming the layer and both shapes.
"""

import inspect

import numpy as np

from . import nn, optim, presets, user_model
from .autograd.grad_mode import no_grad
from .config import ConfigError, is_model_file
from ._tensor import Tensor

def _layer_types():
    """Every layer of nntrain.nn a layer list can name: the Modules that compute something, except losses and
    Sequential (a list is one already)."""
    from .nn.loss import _Loss

    types = {}
    for name in nn.__all__:
        cls = getattr(nn, name)
        if (isinstance(cls, type) and issubclass(cls, nn.Module) and cls.forward is not nn.Module.forward
                and not issubclass(cls, _Loss) and cls is not nn.Sequential):
            types[name] = cls
    return types


LAYER_TYPES = tuple(_layer_types())


def _shape_str(shape):
    return "(N, " + ", ".join(str(d) for d in shape) + ")"


def _output_shape(layer, shape, where):
    """Runs one zero sample through ``layer`` (in eval mode) to learn its output shape."""
    was_training = layer.training
    layer.eval()
    try:
        with no_grad():
            out = layer(Tensor(np.zeros((1,) + tuple(shape), dtype=np.float32)))
    except ValueError as e:
        raise ConfigError(f"{where}: input {_shape_str(shape)} does not fit: {e}") from None
    finally:
        layer.train(was_training)
    return out.shape[1:]


def _build_layer(spec, shape, classes, rng, where, is_last):
    if not isinstance(spec, dict) or not isinstance(spec.get("type"), str):
        raise ConfigError(f"{where}: each layer must be a table with a 'type', got {spec!r}")
    kind = spec["type"]
    if kind not in LAYER_TYPES:
        raise ConfigError(f"{where}: unknown layer type '{kind}' (choose from {', '.join(LAYER_TYPES)})")
    args = {k: v for k, v in spec.items() if k != "type"}
    where = f"{where} ({kind})"
    if kind == "Residual":
        block = build_layers(args.pop("block", None), shape, classes, rng, where + ".block", final=False)
        projection = args.pop("projection", None)
        projection = build_layers(projection, shape, classes, rng, where + ".projection", final=False) \
            if projection else None
        if args:
            raise ConfigError(f"{where}: unknown argument(s) {', '.join(args)} (Residual takes block, projection)")
        layer = nn.Residual(block, projection)
        return layer, _output_shape(layer, shape, where)
    cls = getattr(nn, kind)
    try:
        inferred = cls.infer_args(tuple(shape))
    except ValueError as e:
        raise ConfigError(f"{where}: {e}") from None
    for name, value in inferred.items():
        if name in args and args[name] != value:
            raise ConfigError(f"{where}: {name} = {args[name]} but the input is {_shape_str(shape)}")
        args[name] = value
    if kind == "Linear" and "out_features" not in args:
        if not is_last:
            raise ConfigError(f"{where}: out_features is required except in the last layer (which gets one per class)")
        args["out_features"] = classes
    accepted = inspect.signature(cls.__init__).parameters
    if "rng" in accepted:
        args["rng"] = rng
    unknown = [k for k in args if k not in accepted]
    if unknown:
        names = [p for p in accepted if p not in ("self", "rng", "dtype")]
        raise ConfigError(f"{where}: unknown argument(s) {', '.join(unknown)} ({kind} takes {', '.join(names) or 'none'})")
    try:
        layer = cls(**args)
    except (TypeError, ValueError) as e:
        raise ConfigError(f"{where}: {e}") from None
    return layer, _output_shape(layer, shape, where)


def build_layers(specs, input_shape, classes, rng, where="model.layers", final=True):
    """A Sequential from layer specs, inferring sizes from ``input_shape`` (without the batch)."""
    if not isinstance(specs, list) or not specs:
        raise ConfigError(f"{where}: expected a non-empty list of layers")
    layers, shape = [], tuple(input_shape)
    for i, spec in enumerate(specs):
        layer, shape = _build_layer(spec, shape, classes, rng, f"{where}[{i}]", final and i == len(specs) - 1)
        layers.append(layer)
    if final and tuple(shape) != (classes,):
        raise ConfigError(f"{where}: the network outputs {_shape_str(shape)} but the data has {classes} classes; "
                          f"end with a Linear layer of {classes} outputs")
    return nn.Sequential(*layers)


def build_model(config, input_shape, classes, rng):
    """The model the configuration describes, initialised from ``rng`` (and ``init_from`` if set)."""
    m = config["model"]
    if m["layers"]:
        model = build_layers(m["layers"], input_shape, classes, rng)
    elif is_model_file(m["preset"]):
        model = build_user_model(m, input_shape, classes, rng, config["training"]["task"] == "classification")
    else:
        options = {}
        if m["preset"] == "mlp":
            options = {"hidden": tuple(m["hidden"]), "dropout": m["dropout"]}
        elif m["preset"] == "cnn":
            options = {"dropout": m["dropout"]}
        try:
            model = presets.build(m["preset"], input_shape, classes, rng=rng, **options)
        except ValueError as e:
            raise ConfigError(f"model.preset: {e}") from None
    if m["init"] != "default":
        nn.init.initialize(model, m["init"], rng)
    if m["init_from"]:
        nn.init.from_pretrained(model, m["init_from"])
    return model


def build_user_model(model_config, input_shape, classes, rng, classification=True):
    """The class of a FILE.py:ClassName model built with its [model] arguments, after checking that the file is
    the one the run recorded (if any), and that one example of the data gives one output per class (or
    target column)."""
    user_model.check_unchanged(model_config)
    spec = model_config["preset"]
    model = user_model.build(spec, model_config["args"], rng)
    path, name = user_model.parse_spec(spec)
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            out = model(Tensor(np.zeros((1,) + tuple(input_shape), dtype=model.dtype)))
    except Exception as e:  # the user's forward: one line saying where it failed
        raise ConfigError(f"{user_model.where(e, path)}: {name}.forward on an input of {_shape_str(input_shape)} "
                          f"failed: {type(e).__name__}: {' '.join(str(e).split())}") from None
    finally:
        model.train(was_training)
    if not isinstance(out, Tensor):
        raise ConfigError(f"{path}: {name}.forward returned {type(out).__name__}, expected a Tensor")
    if tuple(out.shape[1:]) != (classes,):
        raise ConfigError(f"{path}: {name} outputs {_shape_str(out.shape[1:])} for inputs {_shape_str(input_shape)} "
                          f"but the data has {classes} {'classes' if classification else 'target columns'}")
    return model


def build_optimizer(config, params):
    o = config["optimizer"]
    name, lr, wd = o["name"], o["lr"], o["weight_decay"]
    if name == "sgd":
        return optim.SGD(params, lr=lr, weight_decay=wd)
    if name == "momentum":
        return optim.SGD(params, lr=lr, momentum=o["momentum"], nesterov=o["nesterov"], weight_decay=wd)
    if name == "adagrad":
        return optim.Adagrad(params, lr=lr, weight_decay=wd)
    if name == "rmsprop":
        return optim.RMSprop(params, lr=lr, alpha=o["alpha"], eps=o["eps"], weight_decay=wd)
    if name == "adam":
        return optim.Adam(params, lr=lr, betas=tuple(o["betas"]), eps=o["eps"], weight_decay=wd)
    return optim.AdamW(params, lr=lr, betas=tuple(o["betas"]), eps=o["eps"], weight_decay=wd)


def build_scheduler(config, optimizer):
    s, epochs = config["schedule"], config["training"]["epochs"]
    schedulers = optim.lr_scheduler
    after = None
    if s["name"] == "step":
        after = schedulers.StepLR(optimizer, s["step_size"], s["gamma"])
    elif s["name"] == "exponential":
        after = schedulers.ExponentialLR(optimizer, s["gamma"])
    elif s["name"] == "cosine":
        after = schedulers.CosineAnnealingLR(optimizer, s["t_max"] or epochs, s["eta_min"])
    if s["warmup_epochs"]:
        return schedulers.LinearWarmup(optimizer, s["warmup_epochs"], after=after)
    return after


def build_loss(config):
    """The training loss: cross-entropy (with label smoothing) for classification, MSE or L1 for regression."""
    t = config["training"]
    name = t["loss"] if t["loss"] != "auto" else ("mse" if t["task"] == "regression" else "cross_entropy")
    if name == "mse":
        return nn.MSELoss()
    if name == "l1":
        return nn.L1Loss()
    return nn.CrossEntropyLoss(label_smoothing=config["regularization"]["label_smoothing"])


def build_metrics(config, classes):
    """What each evaluation measures: accuracy and the confusion matrix, or MAE, RMSE and R2."""
    from .metric import MAE, R2, RMSE
    from .train import default_metrics

    return [MAE(), RMSE(), R2()] if config["training"]["task"] == "regression" else default_metrics(classes)


def build_penalties(config):
    r = config["regularization"]
    penalties = []
    if r["l1"]:
        penalties.append(nn.L1Penalty(r["l1"]))
    if r["l2"]:
        penalties.append(nn.L2Penalty(r["l2"]))
    return tuple(penalties)
