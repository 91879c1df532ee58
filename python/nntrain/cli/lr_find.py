"""`nntrain lr-find`: the learning-rate range test on the network and data a `train` with the same flags would use."""

import json

import click

from .common import console, threads_option, user_errors
from .train import flag_options, given_flags, overrides


@click.command("lr-find")
@click.argument("config_file", required=False, metavar="[CONFIG.toml]")
@flag_options
@click.option("--start-lr", type=float, default=1e-7, show_default=True, help="The rate of the first step.")
@click.option("--end-lr", type=float, default=10.0, show_default=True, help="The rate of the last step.")
@click.option("--steps", type=int, default=100, show_default=True,
              help="Steps, the rate growing exponentially from --start-lr to --end-lr (fewer if the loss diverges).")
@click.option("--plot", "plot_path", metavar="FILE.png", default="lr_find.png", show_default=True,
              help="Where to draw the smoothed loss against the rate.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@user_errors
def command(config_file, start_lr, end_lr, steps, plot_path, as_json, **flags):
    """Train for a few hundred steps while the learning rate grows from tiny to huge, and suggest a rate:
    where the loss falls fastest, at most a tenth of the rate at its minimum. The network, data, optimiser
    and regularisation are those `nntrain train` would use with the same CONFIG.toml and flags; nothing is
    kept (no run directory).

    \b
    Examples:
      nntrain lr-find
      nntrain lr-find --model cnn --data fashion-mnist --optimizer momentum --plot cnn-lr.png
    """
    from .. import config as cfg
    from ..lr_finder import lr_find
    from ..run import Run

    config = cfg.resolve(config_file, overrides(given_flags(flags)))
    if config["threads"]:
        threads_option(config["threads"])
    run = Run(config, directory=None)
    trainer = run.trainer
    result = lr_find(run.model, run.optimizer, run.loader, trainer.loss_fn, start_lr=start_lr, end_lr=end_lr,
                     num_steps=steps, penalties=trainer.penalties, clip_grad_norm=trainer.clip_grad_norm,
                     metrics=trainer.metrics)
    plotted = result.plot(plot_path)
    if as_json:
        click.echo(json.dumps({"suggestion": result.suggestion, "steepest": result.steepest,
                               "min_over_10": result.min_over_10, "steps": len(result.lrs),
                               "diverged": bool(result.diverged), "plot": plot_path if plotted else None}))
        return
    out = console()
    ended = (f"the loss diverged at {result.lrs[-1]:.2g} after {len(result.lrs)} steps" if result.diverged else
             f"{len(result.lrs)} steps up to {result.lrs[-1]:.2g}")
    out.print(f"suggested learning rate {result.suggestion:.2g}  (steepest descent at {result.steepest:.2g}, a tenth "
              f"of the minimum's rate {result.min_over_10:.2g}; {ended})")
    if plotted:
        out.print(f"loss against rate drawn in {plot_path}; train with: nntrain train --lr {result.suggestion:.2g}")
    else:
        out.print("(no plot: install matplotlib, e.g. pip install 'nntrain[plot]')")
