"""`python -m nntrain` is the `nntrain` command."""

from .cli import main

main(prog_name="nntrain")
