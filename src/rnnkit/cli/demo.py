"""``rnnkit demo``: train the built-in bilingual intent model and ask it what time it is."""

from __future__ import annotations

import tempfile
from pathlib import Path

import typer

EXAMPLE = "Example: rnnkit demo --out runs/demo"


def demo(
    out: Path = typer.Option(
        None, help="Keep the trained model here (default: a temporary folder)."
    ),
    seed: int = typer.Option(0, help="Random seed."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar."),
) -> None:
    """Train a small LSTM intent classifier on the English + Chinese data set shipped with
    rnnkit (under a minute on 2 CPU cores), print its dev accuracy, then answer
    "What time is it?" and "现在几点了?" token by token."""
    from rnnkit import api
    from rnnkit.cli.output import print_trace
    from rnnkit.diagnostics.trace import trace_text
    from rnnkit.tasks.classification import train_classifier
    from rnnkit.tasks.demo import DEMO_QUESTIONS, demo_config
    from rnnkit.tasks.reports import print_prediction

    with tempfile.TemporaryDirectory(prefix="rnnkit-demo-") as scratch:
        directory = out or Path(scratch) / "model"
        result = train_classifier(demo_config(seed), directory, progress=progress)
        accuracy = result.best_metrics["accuracy"]
        typer.echo(f"dev accuracy {accuracy:.3f} (epoch {result.best_epoch}); model in {directory}")
        classifier = api.load(directory)
        for prediction in classifier.predict(list(DEMO_QUESTIONS), top_k=3):
            print_prediction(prediction)
            print_trace(trace_text(classifier, prediction.text))
