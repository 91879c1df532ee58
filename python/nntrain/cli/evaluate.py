"""`nntrain eval`: how well a trained model does on a data set, class by class."""

import json
import os

import click

from .common import console, data_overrides, fail, threads_option, user_errors


def _load_eval_data(meta, data, part, workers):
    """The split to evaluate, read and normalised as the model was trained (from the model's metadata)."""
    from .. import config as cfg
    from ..run import normalizer_of
    from ..run_data import eval_batches, load_data

    # The splits as training made them (the same test and validation carve-outs from the same seed), with
    # the model's own normalisation statistics and, for images, its input size and colour mode.
    config = meta["config"]
    normalizer = normalizer_of(meta)
    settings = dict(cfg.merge(config["data"], data_overrides(data)), normalize=normalizer is not None, augment=[])
    if workers is not None:
        settings["workers"] = workers
    splits, _ = load_data(dict(config, data=settings), normalizer, input_shape=tuple(meta["input_shape"]))
    chosen = getattr(splits, part)
    if chosen is None:
        fail(f"{splits.name} has no {part} split (it has: {', '.join(splits.parts())})")
    if tuple(splits.input_shape) != tuple(meta["input_shape"]):
        fail(f"the model takes inputs of {tuple(meta['input_shape'])} but {splits.name} holds "
             f"{tuple(splits.input_shape)}")
    if config["training"]["task"] == "regression" and splits.classes != meta["classes"]:
        fail(f"the model predicts {meta['classes']} target columns but {splits.name} has {splits.classes}")
    if splits.classes > meta["classes"]:
        fail(f"the model knows {meta['classes']} classes but {splits.name} has {splits.classes}")
    return eval_batches(chosen, splits.collate_fn, settings["workers"]), splits.name


def eval_metrics(config, classes):
    """What `eval` measures: for classification the training metrics (accuracy, the confusion matrix) and
    precision, recall and F1, per class and their macro averages; for regression MAE, RMSE and R2."""
    from ..build import build_metrics
    from ..metric import F1, Precision, Recall

    metrics = build_metrics(config, classes)
    if config["training"]["task"] == "classification":
        metrics += [kind(classes, average) for average in (None, "macro") for kind in (Precision, Recall, F1)]
    return metrics


def _print_regression(out, result, name, part):
    out.print(f"{name} {part}: {result.samples:,} examples  loss {result.loss:.4f}  MAE {result.metrics['mae']:.4g}  "
              f"RMSE {result.metrics['rmse']:.4g}  R2 {result.metrics['r2']:.4f}")


def _print_classification(out, result, names, name, part):
    from rich.table import Table

    m = result.metrics
    out.print(f"{name} {part}: {result.samples:,} examples  loss {result.loss:.4f}  accuracy {result.accuracy:.2%}  "
              f"precision {m['precision']:.4f}  recall {m['recall']:.4f}  F1 {m['f1']:.4f} (macro averages)")
    per_class = Table("class", "accuracy", "precision", "recall", "F1", "examples", title="per class",
                      title_justify="left")
    for i, acc in enumerate(result.per_class_accuracy):
        per_class.add_row(names[i], "-" if acc != acc else f"{acc:.2%}",
                          *(f"{m[k + '_per_class'][i]:.4f}" for k in ("precision", "recall", "f1")),
                          str(int(result.confusion[i].sum())))
    out.print(per_class)
    confusion = Table("true \\ predicted", *[str(i) for i in range(len(names))], title="confusion matrix",
                      title_justify="left")
    for i, row in enumerate(result.confusion):
        confusion.add_row(f"{i} {names[i]}", *[str(v) for v in row])
    out.print(confusion)


@click.command("eval")
@click.argument("model_path", metavar="RUNDIR|MODEL")
@click.option("--data", metavar="NAME|PATH", help="Data to evaluate on (default: the data the model was trained on).")
@click.option("--split", "part", type=click.Choice(["test", "val", "train"]), default="test", show_default=True)
@click.option("--plot", "plot_path", metavar="FILE.png", is_flag=False, flag_value="", default=None,
              help="Also draw the confusion matrix (default file: RUNDIR/confusion.png).")
@click.option("--threads", type=int, help="Compute threads.")
@click.option("--workers", type=click.IntRange(0), help="Worker processes reading images (default: as trained).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@user_errors
def command(model_path, data, part, plot_path, threads, workers, as_json):
    """Loss, accuracy, precision, recall and F1 (per class and macro-averaged) and the confusion matrix of a
    trained model; MAE, RMSE and R2 of a regression model.

    \b
    Examples:
      nntrain eval runs/20260101-120000
      nntrain eval runs/cnn/model.safetensors --data fashion-mnist --plot
    """
    from ..build import build_loss
    from ..run import load_trained_model
    from ..train import evaluate

    threads_option(threads)
    model, meta = load_trained_model(model_path)
    config = meta["config"]
    regression = config["training"]["task"] == "regression"
    if regression and plot_path is not None:
        fail("--plot draws a confusion matrix; a regression model has none")
    dataset, name = _load_eval_data(meta, data, part, workers)
    metrics = eval_metrics(config, meta["classes"])
    result = evaluate(model, dataset, build_loss(config), meta["classes"], metrics=metrics)
    names = meta.get("class_names") or [str(i) for i in range(meta["classes"])]
    if plot_path is not None:
        from ..plots import plot_confusion

        if plot_path == "":
            base = model_path if os.path.isdir(model_path) else os.path.dirname(model_path) or "."
            plot_path = os.path.join(base, "confusion.png")
        if not plot_confusion(result.confusion, names, plot_path):
            fail("--plot needs matplotlib: pip install 'nntrain[plot]'")
    if as_json:
        out = {"data": name, "split": part, **result.as_dict()}
        if not regression:
            out["class_names"] = names
        if plot_path:
            out["plot"] = plot_path
        click.echo(json.dumps(out))
        return
    out = console()
    if regression:
        _print_regression(out, result, name, part)
    else:
        _print_classification(out, result, names, name, part)
    if plot_path:
        out.print(f"confusion matrix drawn in {plot_path}")
