"""``rnnkit export DIR``: write ``model.onnx`` (and a decoding model's step graphs) beside the
checkpoint, checked against PyTorch; ``--quantize int8`` adds their int8 twins, measured."""

from __future__ import annotations

from pathlib import Path

import typer

from rnnkit.errors import ConfigError

EXAMPLE = "Example: rnnkit export runs/intent --quantize int8 --data data/dev.csv --max-drop 0.5"


def export(
    model_dir: Path = typer.Argument(..., help="A model directory written by rnnkit train."),
    export_format: str = typer.Option("onnx", "--format", help="Export format: onnx."),
    quantize: str = typer.Option(
        None,
        help="int8: also write model.int8.onnx (dynamic int8 quantization), time it against "
        "fp32 and record both in quantization.json.",
    ),
    data: str = typer.Option(
        None,
        help="With --quantize: labelled dev data (a layout the task reads) to score fp32 and "
        "int8 on with the task's metric.",
    ),
    max_drop: float = typer.Option(
        0.5,
        min=0.0,
        help="With --quantize and --data: refuse the int8 model when the metric drops by more "
        "than this many points (accuracy/F1 in %, BLEU, perplexity rise).",
    ),
) -> None:
    """Export a trained model for inference without PyTorch (ONNX Runtime), parity-checked."""
    from rnnkit.export import FORMATS, export_onnx
    from rnnkit.export.quantize import QUANTIZATIONS, REPORT_FILE, QuantizeSettings, quantize_int8

    if export_format not in FORMATS:
        raise ConfigError(f"--format: expected one of {list(FORMATS)}, got {export_format!r}")
    if quantize is not None and quantize not in QUANTIZATIONS:
        raise ConfigError(f"--quantize: expected one of {list(QUANTIZATIONS)}, got {quantize!r}")
    if data is not None and quantize is None:
        raise ConfigError("--data: scores the int8 model; give --quantize int8 with it")
    result = export_onnx(model_dir)
    typer.echo(
        f"wrote {', '.join(map(str, result.paths))} (ONNX Runtime vs PyTorch: max |difference| "
        f"{result.max_abs_difference:.2e})"
    )
    if quantize is None:
        return
    report = quantize_int8(model_dir, data, QuantizeSettings(max_drop=max_drop))
    scores = ", ".join(
        f"{key} {report.metric_fp32[key]:.4g} -> {report.metric_int8[key]:.4g}"
        for key in report.drop
    )
    typer.echo(
        f"wrote {', '.join(map(str, report.paths))} (int8/fp32 p50 at batch 1: "
        f"{report.latency_ratio:.2f}x{'; ' + scores if scores else ''}); "
        f"measurements in {model_dir / REPORT_FILE}"
    )
