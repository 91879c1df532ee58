"""The model a `summary` or `gradcheck` command looks at: from a CONFIG.toml and/or the model flags of `train`,
sized to --data."""

from .train import flag_options, given_flags, overrides

# The flags of the train command that decide which network a CONFIG.toml stands for, and its inputs and outputs.
MODEL_FLAGS = ("--model", "--data", "--image-size", "--task", "--loss")
model_flag_options = flag_options(only=MODEL_FLAGS)


def resolve_model_config(config_file, flags):
    """The configuration of CONFIG.toml and the MODEL_FLAGS given (``flags``: click's values by parameter)."""
    from .. import config as cfg

    return cfg.resolve(config_file, overrides(given_flags(flags)))


def data_shape(config):
    """(input shape, classes, data set name, the splits) of the configured data, unnormalised; an image
    folder's decoded images are not kept (a shape and one batch are all its callers read)."""
    from ..run import load_data

    splits, _ = load_data(dict(config, data=dict(config["data"], val_split=0.0, test_split=0.0, normalize=False,
                                                 augment=[], cache_images="off")))
    return tuple(splits.input_shape), splits.classes, splits.name, splits


def build(config, input_shape, classes):
    import numpy as np

    from ..build import build_model

    return build_model(config, input_shape, classes, np.random.default_rng(config["seed"]))
