"""`nntrain summary`: the Layer | Input Shape | Output Shape | Param # table of a network."""

import click

from .common import console, user_errors
from .model_options import build, data_shape, model_flag_options, resolve_model_config


@click.command("summary")
@click.argument("config_file", required=False, metavar="[CONFIG.toml]")
@model_flag_options
@user_errors
def command(config_file, **flags):
    """Print a network's layers with their input and output shapes and parameter counts.

    \b
    Examples:
      nntrain summary --model cnn --data fashion-mnist
      nntrain summary my-net.toml
    """
    from ..model_summary import summary

    config = resolve_model_config(config_file, flags)
    input_shape, classes, name, _ = data_shape(config)
    model = build(config, input_shape, classes)
    what = "custom network" if config["model"]["layers"] else config["model"]["preset"]
    outputs = "outputs" if config["training"]["task"] == "regression" else "classes"
    console().print(f"{what} for {name}: inputs {input_shape}, {classes} {outputs}")
    console().print(str(summary(model, input_shape)))
