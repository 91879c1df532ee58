"""`nntrain datasets`: the data this machine has, and where nntrain looks for more."""

import json

import click

from .common import console, user_errors


@click.command("datasets")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@user_errors
def command(as_json):
    """List the data sets nntrain can find, with their sizes and paths.

    Named data sets are looked for in $NNTRAIN_DATA/<name>, ~/.cache/nntrain/<name> and
    /usr/share/datasets/<name> (Debian's dataset-fashion-mnist installs there).

    \b
    Example:
      nntrain datasets
    """
    from ..data.finder import KNOWN_DATASETS, available_datasets, search_places

    found = available_datasets()
    if as_json:
        click.echo(json.dumps({"found": [{"name": d.name, "location": d.location, "sizes": d.sizes} for d in found],
                               "searched": {n: search_places(n) for n in KNOWN_DATASETS if n != "digits"}}))
        return
    from rich.table import Table

    table = Table("name", "examples")
    table.add_column("location", overflow="fold")
    for d in found:
        table.add_row(d.name, ", ".join(f"{k} {v:,}" for k, v in d.sizes.items()), d.location)
    out = console()
    out.print(table)
    missing = [n for n in KNOWN_DATASETS if n not in {d.name for d in found}]
    for name in missing:
        out.print(f"{name}: not found (looked in {', '.join(search_places(name))})")
