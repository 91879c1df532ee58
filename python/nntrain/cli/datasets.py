"""`nntrain datasets`: the data this machine has, where nntrain looks for more, and what a folder holds."""

import json

import click

from .common import console, user_errors


def describe_path(path):
    """{path, kind, splits: {split: {class name: examples}}, image_size} of the data at ``path``."""
    from ..data import load_path
    from ..data.image_folder import ImageFolder, image_header
    from ..data.image_splits import image_folder_parts

    parts = image_folder_parts(path)
    if parts is not None:
        folders = {split: ImageFolder(root) for split, root in parts.items()}
        counts = {split: {name: f.targets.count(i) for i, name in enumerate(f.classes)} for split, f in folders.items()}
        height, width, gray = image_header(folders["train"].samples[0][0])
        return {"path": str(path), "kind": "image folder", "splits": counts,
                "image_size": [height, width], "mode": "L" if gray else "RGB"}
    import numpy as np

    splits = load_path(path)
    names = splits.class_names or [str(i) for i in range(splits.classes)]
    counts = {split: dict(zip(names, np.bincount(d.y, minlength=splits.classes).tolist()))
              for split, d in splits.parts().items()}
    return {"path": str(path), "kind": "arrays", "splits": counts, "input_shape": list(splits.input_shape)}


def _print_path(info, out):
    from rich.table import Table

    splits = list(info["splits"])
    what = (f"images of {info['image_size'][0]}x{info['image_size'][1]} ({info['mode']}, first image)"
            if info["kind"] == "image folder" else f"examples of {tuple(info['input_shape'])}")
    classes = list(info["splits"][splits[0]])
    table = Table("class", *splits, title=f"{info['path']}: {info['kind']}, {len(classes)} classes, {what}",
                  title_justify="left")
    for name in classes:
        table.add_row(name, *[f"{info['splits'][s].get(name, 0):,}" for s in splits])
    table.add_row("total", *[f"{sum(info['splits'][s].values()):,}" for s in splits])
    out.print(table)


@click.command("datasets")
@click.argument("paths", nargs=-1, metavar="[PATH...]")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@user_errors
def command(paths, as_json):
    """List the data sets nntrain can find, with their sizes and paths; or, given PATHs (image folders,
    IDX or CIFAR-10 folders, .npz or .csv files), the examples of each class in each split.

    Named data sets are looked for in $NNTRAIN_DATA/<name>, ~/.cache/nntrain/<name> and
    /usr/share/datasets/<name> (Debian's dataset-fashion-mnist installs there).

    \b
    Examples:
      nntrain datasets
      nntrain datasets photos/ shoes/train
    """
    if paths:
        described = [describe_path(p) for p in paths]
        if as_json:
            click.echo(json.dumps({"paths": described}))
            return
        out = console()
        for info in described:
            _print_path(info, out)
        return
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
