"""The `nntrain` command: a click group whose commands are imported only when run, so that
`nntrain --help` answers without loading NumPy or the compiled core."""

import importlib
import platform

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


def version_text():
    """What a bug report starts with: the version, the platform, the kernels in use against the best this CPU
    runs, the compiler and the threads. Loads the compiled core (unlike --help)."""
    first = f"nntrain {__version__}, Python {platform.python_version()}, {platform.system()} {platform.machine()}"
    try:
        from .. import build_info

        info = build_info()
    except ImportError as e:
        raise click.ClickException(f"{first}: the compiled core did not load: {e}")
    threads = info["threads"]
    openmp = f"on, {threads} thread{'s' if threads != 1 else ''}" if info["openmp"] else "off, 1 thread"
    kernels = f"kernels: {info['isa']} (best this CPU runs: {info['isa_supported']})"
    if info["isa_note"]:
        kernels += f" [{info['isa_note']}]"
    return f"{first}\n{kernels}; compiler: {info['compiler']}; OpenMP: {openmp}"


def print_version(ctx, param, value):
    if value and not ctx.resilient_parsing:
        click.echo(version_text())
        ctx.exit()


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--version", "-V", is_flag=True, expose_value=False, is_eager=True, callback=print_version,
              help="Show the version, the kernels in use, the compiler and the threads, and exit.")
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
