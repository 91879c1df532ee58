"""`nntrain export`: a trained model in a format other engines run."""

import os

import click

from .common import console, user_errors


@click.command("export")
@click.argument("model_path", metavar="RUNDIR|MODEL")
@click.option("--format", "fmt", type=click.Choice(["onnx"]), default="onnx", show_default=True)
@click.option("-o", "--output", metavar="FILE", help="Where to write (default: RUNDIR/model.onnx).")
@user_errors
def command(model_path, fmt, output):
    """Export a trained model to ONNX, then check it: onnx.checker, and onnxruntime's output against
    nntrain's own on random inputs (a difference above 1e-5 is an error). Needs nntrain[onnx].

    \b
    Example:
      nntrain export runs/cnn --format onnx -o cnn.onnx
    """
    from ..export.onnx import OPSET, TOLERANCE, to_onnx
    from ..run import load_trained_model

    model, meta = load_trained_model(model_path)
    if output is None:
        base = model_path if os.path.isdir(model_path) else os.path.dirname(model_path) or "."
        output = os.path.join(base, "model.onnx")
    to_onnx(model, tuple(meta["input_shape"]), output)
    console().print(f"wrote {output} (ONNX opset {OPSET}, dynamic batch, input (batch, "
                    f"{', '.join(map(str, meta['input_shape']))})); onnxruntime matches nntrain within {TOLERANCE:g}")
