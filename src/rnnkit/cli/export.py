"""``rnnkit export DIR``: write ``model.onnx`` (and a decoding model's step graphs) beside the
checkpoint, checked against PyTorch."""

from __future__ import annotations

from pathlib import Path

import typer

from rnnkit.errors import ConfigError

EXAMPLE = "Example: rnnkit export runs/intent --format onnx"


def export(
    model_dir: Path = typer.Argument(..., help="A model directory written by rnnkit train."),
    export_format: str = typer.Option("onnx", "--format", help="Export format: onnx."),
) -> None:
    """Export a trained model for inference without PyTorch (ONNX Runtime), parity-checked."""
    from rnnkit.export import FORMATS, export_onnx

    if export_format not in FORMATS:
        raise ConfigError(f"--format: expected one of {list(FORMATS)}, got {export_format!r}")
    result = export_onnx(model_dir)
    typer.echo(
        f"wrote {', '.join(map(str, result.paths))} (ONNX Runtime vs PyTorch: max |difference| "
        f"{result.max_abs_difference:.2e})"
    )
