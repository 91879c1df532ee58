"""The `nntrain` command: a click group whose commands are imported only when run, so that
`nntrain --help` answers without loading NumPy or the compiled core."""

import importlib

import click

from .. import __version__

# command name -> module in this package that defines `command`
COMMANDS = {
    "train": "train",
    "eval": "evaluate",
    "predict": "predict",
    "summary": "summary",
    "gradcheck": "gradcheck",
    "datasets": "datasets",
    "export": "export",
    "lr-find": "lr_find",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx):
        return list(COMMANDS)

    def get_command(self, ctx, name):
        if name not in COMMANDS:
            return None
        return importlib.import_module(f"{__name__}.{COMMANDS[name]}").command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="nntrain")
def main():
    """Train small neural networks fast on a CPU.

    \b
    Start here:
      nntrain train                    the default MLP on the embedded digits, in seconds
      nntrain train --model cnn --data fashion-mnist --epochs 5
      nntrain eval runs/<timestamp>    accuracy, precision/recall/F1 per class, confusion matrix
      nntrain lr-find                  which learning rate to train with (the range test)
      nntrain datasets                 what data it can find, and where it looks
    """
