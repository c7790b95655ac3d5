"""``rnnkit predict DIR TEXT...``: label or tag texts with a trained model."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from rnnkit.cli.inputs import read_texts
from rnnkit.cli.options import EncodingErrors, InferenceDevice, MaxTokens, OverLength, Runtime
from rnnkit.errors import ConfigError

EXAMPLE = 'Example: rnnkit predict runs/intent "What time is it?" --top-k 3 --trace'


def predict(
    model_dir: Path = typer.Argument(..., help="A model directory written by rnnkit train."),
    texts: list[str] = typer.Argument(
        None, help="Texts to label; none (or '-') reads lines from stdin."
    ),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per text."),
    top_k: int = typer.Option(1, min=1, help="Classifiers: also show the k most probable labels."),
    trace: bool = typer.Option(
        False,
        help="Classifiers: walk through each text token by token (O1 … On), as in the lesson "
        "of docs/rnn-tutorial.md.",
    ),
    # The runtime options every inference command takes, as in cli/translate.py: typer reads each
    # command's options from its own signature; their types are shared in cli/options.py.
    runtime: Runtime = "torch",
    device: InferenceDevice = "cpu",
    encoding_errors: EncodingErrors = "strict",
    max_tokens: MaxTokens = None,
    over_length: OverLength = "truncate",
) -> None:
    """Predict each text's label (classifiers), spans (taggers) or intent and slots (joint)."""
    from rnnkit import api
    from rnnkit.cli.output import print_trace
    from rnnkit.diagnostics.trace import trace_text
    from rnnkit.tasks import TASKS
    from rnnkit.tasks.classification import Classifier
    from rnnkit.tasks.token_limit import TokenLimit, set_token_limit

    limit = TokenLimit(max_tokens, over_length)  # checked before any input is read

    texts = read_texts(texts, encoding_errors)
    predictor = api.load(model_dir, runtime=runtime, device=device)
    print_prediction = TASKS.get(predictor.task).print_prediction
    if print_prediction is None:
        raise ConfigError(
            f"{model_dir} holds a {predictor.task!r} model; predict labels, tags or translates "
            "texts (use rnnkit generate for a language model)"
        )
    set_token_limit(predictor, limit)
    if not isinstance(predictor, Classifier):
        if top_k != 1 or trace:
            option = "--trace" if trace else "--top-k"
            raise ConfigError(f"{option}: only for classifiers; this is a {predictor.task!r} model")
        for result in predictor.predict(texts):
            if as_json:
                typer.echo(json.dumps(result.to_dict(), ensure_ascii=False))
            else:
                print_prediction(result)
        return
    for prediction in predictor.predict(texts, top_k=top_k):
        walk = trace_text(predictor, prediction.text) if trace else None
        if as_json:
            record = prediction.to_dict()
            if walk is not None:
                record["trace"] = walk.to_dict()["steps"]
            typer.echo(json.dumps(record, ensure_ascii=False))
            continue
        print_prediction(prediction)
        if walk is not None:
            print_trace(walk)
