"""The model a `summary` or `gradcheck` command looks at: from a CONFIG.toml and/or --model, sized to --data."""

from .common import data_overrides


def resolve_model_config(config_file, preset, data):
    from .. import config as cfg

    overrides = {}
    if preset is not None:
        overrides["model"] = {"preset": preset, "layers": []}
    if data is not None:
        overrides["data"] = data_overrides(data)
    return cfg.resolve(config_file, overrides)


def data_shape(config):
    """(input shape, classes, data set name, the splits) of the configured data, unnormalised."""
    from ..run import load_data

    splits, _ = load_data(dict(config, data=dict(config["data"], val_split=0.0, test_split=0.0, normalize=False,
                                                 augment=[])))
    return tuple(splits.input_shape), splits.classes, splits.name, splits


def build(config, input_shape, classes):
    import numpy as np

    from ..build import build_model

    return build_model(config, input_shape, classes, np.random.default_rng(config["seed"]))
