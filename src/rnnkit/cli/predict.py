"""``rnnkit predict DIR TEXT...``: label texts with a trained model, optionally traced."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from rnnkit.errors import ConfigError

EXAMPLE = 'Example: rnnkit predict runs/intent "What time is it?" --top-k 3 --trace'


def predict(
    model_dir: Path = typer.Argument(..., help="A model directory written by rnnkit train."),
    texts: list[str] = typer.Argument(
        None, help="Texts to label; none (or '-') reads lines from stdin."
    ),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per text."),
    top_k: int = typer.Option(1, min=1, help="Also show the k most probable labels."),
    trace: bool = typer.Option(False, help="Walk through each text token by token (O1 … On)."),
) -> None:
    """Predict the label of each text; --trace shows how the model reads it."""
    import rnnkit
    from rnnkit.cli.output import print_prediction, print_trace
    from rnnkit.diagnostics.trace import trace_text

    if not texts or texts == ["-"]:
        texts = [line.rstrip("\n") for line in sys.stdin if line.strip()]
    classifier = rnnkit.load(model_dir)
    if not hasattr(classifier, "predict"):
        raise ConfigError(
            f"{model_dir} holds a {classifier.task!r} model; predict labels texts "
            "(use rnnkit generate for a language model)"
        )
    for prediction in classifier.predict(texts, top_k=top_k):
        walk = trace_text(classifier, prediction.text) if trace else None
        if as_json:
            record = prediction.to_dict()
            if walk is not None:
                record["trace"] = walk.to_dict()["steps"]
            typer.echo(json.dumps(record, ensure_ascii=False))
            continue
        print_prediction(prediction)
        if walk is not None:
            print_trace(walk)
