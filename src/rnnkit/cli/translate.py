"""``rnnkit translate DIR TEXT...``: translate sentences with a trained translation model."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from rnnkit.cli.inputs import read_texts
from rnnkit.cli.options import EncodingErrors, InferenceDevice, MaxTokens, OverLength, Runtime
from rnnkit.errors import ConfigError

EXAMPLE = 'Example: rnnkit translate runs/en-fr "I am cold." --beam 5 --n-best 3'


def translate(
    model_dir: Path = typer.Argument(
        ..., help="A model directory written by rnnkit train translate."
    ),
    texts: list[str] = typer.Argument(
        None, help="Sentences to translate; none (or '-') reads one sentence per line from stdin."
    ),
    beam: int = typer.Option(5, min=1, help="Beam size; 1 is greedy decoding."),
    n_best: int = typer.Option(1, min=1, help="Show the n best translations (at most --beam)."),
    length_penalty: float = typer.Option(
        1.0, min=0.0, help="Beam scores are log p / length**penalty (0: raw log-probability)."
    ),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per sentence."),
    attention_plot: Path = typer.Option(
        None, help="Draw the attention of the first sentence's translation into this PNG file."
    ),
    # The runtime options every inference command takes, as in cli/predict.py: typer reads each
    # command's options from its own signature; their types are shared in cli/options.py.
    runtime: Runtime = "torch",
    device: InferenceDevice = "cpu",
    encoding_errors: EncodingErrors = "strict",
    max_tokens: MaxTokens = None,
    over_length: OverLength = "truncate",
) -> None:
    """Translate each sentence (beam search by default); optionally plot the attention."""
    from rnnkit import api
    from rnnkit.tasks.reports import print_translation
    from rnnkit.tasks.token_limit import TokenLimit, set_token_limit

    limit = TokenLimit(max_tokens, over_length)
    texts = read_texts(texts, encoding_errors)
    if not texts:
        raise ConfigError("no sentence to translate: give TEXT arguments or lines on stdin")
    translator = api.load(model_dir, runtime=runtime, device=device)
    if translator.task != "translate":
        raise ConfigError(f"{model_dir} holds a {translator.task!r} model, not a translation model")
    set_token_limit(translator, limit)
    results = translator.translate(texts, beam=beam, n_best=n_best, length_penalty=length_penalty)
    for result in results:
        if as_json:
            typer.echo(json.dumps(result.to_dict(), ensure_ascii=False))
        else:
            print_translation(result)
    if attention_plot is not None:
        from rnnkit.metrics.translation import save_attention_png

        walk = translator.attention(texts[0], results[0].best)
        save_attention_png(walk.weights, walk.source_tokens, walk.target_tokens, attention_plot)
        typer.echo(f"attention plot saved to {attention_plot}", err=True)
