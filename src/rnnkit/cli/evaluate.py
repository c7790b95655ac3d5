"""``rnnkit evaluate DIR PATH``: score a trained model on labelled data (any task)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import typer

from rnnkit.cli.options import InferenceDevice, Runtime
from rnnkit.errors import ConfigError

EXAMPLE = "Example: rnnkit evaluate runs/intent data/dev.csv --json"


def evaluate(
    model_dir: Path = typer.Argument(..., help="A model directory written by rnnkit train."),
    path: str = typer.Argument(
        ...,
        help="Labelled data in any layout the task reads; translation: pairs in the layout the "
        "model was trained on (a source<TAB>target file, or the prefix P of P.SRC + P.TGT).",
    ),
    as_json: bool = typer.Option(
        False, "--json", help="Print one JSON object (the task's metrics and n)."
    ),
    text_column: str = typer.Option(None, help="Column / JSON field holding the text."),
    label_column: str = typer.Option(None, help="Column / JSON field holding the label."),
    unknown_labels: Literal["wrong", "error"] = typer.Option(
        "wrong",
        help="Labels, intents or tags unseen in training: 'wrong' (the default) counts them as "
        "errors and warns once with their count and the first file:line; 'error' stops there.",
    ),
    beam: int = typer.Option(5, min=1, help="Translation models: beam size (1: greedy)."),
    confusion_png: Path = typer.Option(
        None, help="Classifiers: also draw the confusion matrix into this PNG file."
    ),
    runtime: Runtime = "torch",
    device: InferenceDevice = "cpu",
) -> None:
    """Evaluate a model directory on labelled data with its task's metrics."""
    import rnnkit
    from rnnkit.cli.output import print_report
    from rnnkit.tasks.common import EvaluateOptions

    predictor = rnnkit.load(model_dir, runtime=runtime, device=device)
    options = EvaluateOptions(text_column, label_column, unknown_labels, beam)
    report = predictor.evaluate_file(path, options)
    if confusion_png is not None:
        if "confusion_matrix" not in report:
            raise ConfigError(
                f"--confusion-png: a {predictor.task!r} model has no confusion matrix"
            )
        from rnnkit.metrics.classification import save_confusion_matrix_png

        save_confusion_matrix_png(report["confusion_matrix"], report["labels"], confusion_png)
    if as_json:
        typer.echo(json.dumps(report, ensure_ascii=False))
        return
    print_report(predictor.task, report)
