"""``rnnkit evaluate DIR PATH``: score a trained model on labelled data."""

from __future__ import annotations

import json
from pathlib import Path

import typer

EXAMPLE = "Example: rnnkit evaluate runs/intent data/dev.csv --json"


def evaluate(
    model_dir: Path = typer.Argument(..., help="A model directory written by rnnkit train."),
    path: str = typer.Argument(..., help="Labelled data in any layout the task reads."),
    as_json: bool = typer.Option(
        False, "--json", help="Print one JSON object (accuracy, macro_f1, n, ...)."
    ),
    text_column: str = typer.Option(None, help="Column / JSON field holding the text."),
    label_column: str = typer.Option(None, help="Column / JSON field holding the label."),
    unknown_labels: str = typer.Option(
        "error", help="Labels unseen in training: 'error' stops, 'wrong' counts them as errors."
    ),
    confusion_png: Path = typer.Option(
        None, help="Also draw the confusion matrix into this PNG file."
    ),
) -> None:
    """Evaluate a model directory on labelled data: accuracy, macro/weighted F1, per class."""
    import rnnkit
    from rnnkit.data import read_classification

    classifier = rnnkit.load(model_dir)
    examples = read_classification(path, text_column, label_column).examples
    report = classifier.evaluate(examples, unknown_labels=unknown_labels)
    if confusion_png is not None:
        from rnnkit.metrics.classification import save_confusion_matrix_png

        save_confusion_matrix_png(report["confusion_matrix"], report["labels"], confusion_png)
    if as_json:
        typer.echo(json.dumps(report, ensure_ascii=False))
        return
    from rnnkit.cli.output import print_classification_report

    print_classification_report(report)
