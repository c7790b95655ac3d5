"""``rnnkit generate DIR``: sample, decode greedily or beam-search texts from a language model."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from rnnkit.cli.options import InferenceDevice, Runtime
from rnnkit.errors import ConfigError

EXAMPLE = 'Example: rnnkit generate runs/names --condition Russian --prefix "Ka" --n 10 --top-k 5'


def choose_strategy(
    temperature: float | None, top_k: int | None, top_p: float | None, beam: int | None
) -> dict:
    """The decoding options of the strategy flags. The sampling flags (temperature, top-k,
    top-p) combine; a sampling flag with ``--beam`` is two strategies, an error."""
    sampling = [
        flag
        for flag, value in (("--temperature", temperature), ("--top-k", top_k), ("--top-p", top_p))
        if value is not None
    ]
    if beam is not None and sampling:
        raise ConfigError(
            f"choose one decoding strategy; got {' and '.join(sampling)} (sampling) and --beam"
        )
    if beam is not None:
        return {"strategy": "beam", "beam_size": beam}
    return {
        "strategy": "sample",
        "temperature": 1.0 if temperature is None else temperature,
        "top_k": top_k,
        "top_p": top_p,
    }


def generate(
    model_dir: Path = typer.Argument(..., help="A model directory written by rnnkit train."),
    condition: str = typer.Option(None, help="The category to generate for, e.g. Russian."),
    prefix: str = typer.Option("", help="A prompt the texts continue."),
    n: int = typer.Option(10, "--n", min=1, help="How many texts (the n best with --beam)."),
    temperature: float = typer.Option(
        None, help="Sampling (the default strategy): softmax(logits / T); 1.0 when not given."
    ),
    top_k: int = typer.Option(
        None, help="Sampling: among the k most probable tokens (combines with the others)."
    ),
    top_p: float = typer.Option(
        None, help="Sampling: from the nucleus of probability p, after --top-k when both given."
    ),
    beam: int = typer.Option(
        None, help="Beam search with this beam size (no sampling flag with it)."
    ),
    greedy: bool = typer.Option(
        False, help="Always take the most probable token (no other strategy flag with it)."
    ),
    max_length: int = typer.Option(100, min=0, help="Most tokens to generate per text."),
    seed: int = typer.Option(None, help="Random seed: the same seed gives the same samples."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per text."),
    runtime: Runtime = "torch",
    device: InferenceDevice = "cpu",
) -> None:
    """Generate texts from a trained language model (1→N), optionally for one condition."""
    from rnnkit import api

    options = choose_strategy(temperature, top_k, top_p, beam)
    if greedy:
        if options["strategy"] == "beam" or temperature or top_k or top_p:
            raise ConfigError("choose one decoding strategy; --greedy takes no other flag")
        options = {"strategy": "greedy"}
    generator = api.load(model_dir, runtime=runtime, device=device)
    if not hasattr(generator, "generate"):
        raise ConfigError(f"{model_dir} holds a {generator.task!r} model, which cannot generate")
    for item in generator.generate(
        n, condition, prefix, max_length=max_length, seed=seed, **options
    ):
        if as_json:
            typer.echo(json.dumps(item.to_dict(), ensure_ascii=False))
        else:
            typer.echo(item.text)
