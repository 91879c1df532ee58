"""`nntrain gradcheck`: are the network's backward passes right? Central differences say."""

import sys

import click

from .common import EXIT_FAILED, console, user_errors
from .model_options import build, data_shape, model_flag_options, resolve_model_config


@click.command("gradcheck")
@click.argument("config_file", required=False, metavar="[CONFIG.toml]")
@model_flag_options
@click.option("--batch", type=click.IntRange(1, 64), default=4, show_default=True, help="Examples in the check.")
@click.option("--tol", type=float, default=1e-6, show_default=True, help="Largest relative error that passes.")
@click.option("--max-checks", type=click.IntRange(1), default=16, show_default=True,
              help="Elements checked per parameter (a seeded sample of larger ones).")
@user_errors
def command(config_file, batch, tol, max_checks, **flags):
    """Compare every parameter's analytic gradient with a numerical one, in float64, on real examples.

    Prints the largest relative error per layer; exits with status 1 if any is above --tol. Dropout is
    checked in evaluation mode (its mask would change between the perturbed passes).

    \b
    Examples:
      nntrain gradcheck --model cnn
      nntrain gradcheck my-net.toml --data fashion-mnist
    """
    from rich.table import Table

    from ..build import build_loss
    from ..gradient_check import gradcheck
    from ..nn import Dropout

    config = resolve_model_config(config_file, flags)
    input_shape, classes, name, splits = data_shape(config)
    model = build(config, input_shape, classes)
    for m in model.modules():
        if isinstance(m, Dropout):
            m.eval()
    from ..data import DataLoader

    x, y = next(iter(DataLoader(splits.train, batch_size=batch, collate_fn=splits.collate_fn)))
    result = gradcheck(model, x, y, build_loss(config), tol=tol, max_checks=max_checks)
    table = Table("layer", "parameter", "checked", "max relative error", "")
    for r in result.rows:
        table.add_row(r.layer or "(model)", r.param, f"{r.checked}/{r.size}", f"{r.max_error:.2e}",
                      "ok" if r.max_error < tol else "FAIL")
    out = console()
    out.print(table)
    verdict = "passed" if result.passed else "FAILED"
    out.print(f"gradcheck {verdict}: largest relative error {result.max_error:.2e} (tolerance {tol:g}) "
              f"on {len(x)} examples of {name}")
    if not result.passed:
        sys.exit(EXIT_FAILED)
