"""``rnnkit evaluate DIR PATH``: score a trained model on labelled data (any task)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import typer

from rnnkit.cli.options import EncodingErrors, InferenceDevice, MaxTokens, OverLength, Runtime
from rnnkit.errors import ConfigError

EXAMPLE = "Example: rnnkit evaluate runs/intent data/dev.csv --json"


def column(help: str, *flag: str) -> Any:
    """An option naming where in the data a field is; not given, where training read it (or a
    guess)."""
    return typer.Option(None, *flag, help=f"{help} (default: the one training read).")


def evaluate(
    model_dir: Path = typer.Argument(..., help="A model directory written by rnnkit train."),
    path: str = typer.Argument(
        ...,
        help="Labelled data in any layout the task reads, or hf:NAME[:CONFIG]:SPLIT; "
        "translation: pairs in the layout the model was trained on (a source<TAB>target file, "
        "the prefix P of P.SRC + P.TGT, or an hf: data set).",
    ),
    as_json: bool = typer.Option(
        False, "--json", help="Print one JSON object (the task's metrics and n)."
    ),
    text_column: str = column("Column / JSON field holding the text"),
    label_column: str = column("Column / JSON field holding the label"),
    tokens_column: str = column("Taggers, hf: data: the column of token lists"),
    tags_column: str = column("Taggers, hf: data: the column of tag lists"),
    intent_column: str = column("Joint models, hf: data: the intent column"),
    source_column: str = column("Translation, hf: data: the column of source texts"),
    target_column: str = column("Translation, hf: data: the column of target texts"),
    source_lang: str = column(
        "Translation: the source language, the suffix of line-aligned files or the key read in "
        "an hf: translation column",
        "--source",
    ),
    target_lang: str = column("Translation: the target language, as for --source", "--target"),
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
    encoding_errors: EncodingErrors = "strict",
    max_tokens: MaxTokens = None,
    over_length: OverLength = "truncate",
    device: InferenceDevice = "cpu",
) -> None:
    """Evaluate a model directory on labelled data with its task's metrics."""
    from rnnkit import api
    from rnnkit.tasks import TASKS
    from rnnkit.tasks.common import EvaluateOptions
    from rnnkit.tasks.token_limit import TokenLimit, set_token_limit

    limit = TokenLimit(max_tokens, over_length)
    predictor = api.load(model_dir, runtime=runtime, device=device)
    set_token_limit(predictor, limit)
    options = EvaluateOptions(
        text_column, label_column, unknown_labels, beam, encoding_errors,
        tokens_column=tokens_column, tags_column=tags_column, intent_column=intent_column,
        source_column=source_column, target_column=target_column, source_lang=source_lang,
        target_lang=target_lang,
    )  # fmt: skip
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
    TASKS.get(predictor.task).print_report(report)
