"""``rnnkit train <task>``: train a model from data files into a model directory."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import typer

from rnnkit.errors import ConfigError

app = typer.Typer(
    help="Train a model on your data; writes a model directory.", no_args_is_help=True
)

CLASSIFY_EXAMPLE = (
    "Example: rnnkit train classify --train data/train.csv --dev data/dev.csv --out runs/intent "
    "--cell lstm --bidirectional --epochs 10"
)


def build_config(
    config_class: type,
    config_file: Path | None,
    resume: Path | None,
    options: dict[str, Any],
    overrides: list[str],
):
    """Defaults ← ``--config`` file (or the resumed run's config.json) ← options ← ``--set``."""
    from rnnkit.config import apply_overrides, config_from_dict, load_config_file

    if resume is not None:
        if config_file is not None:
            raise ConfigError("--resume continues a run with its saved config; drop --config")
        saved = load_config_file(resume / "config.json")
        config = config_from_dict(
            config_class, {key: saved[key] for key in ("data", "model", "trainer")}
        )
    elif config_file is not None:
        config = config_from_dict(
            config_class, load_config_file(config_file), where=str(config_file)
        )
    else:
        config = config_class()
    for section, values in options.items():
        given = {key: value for key, value in values.items() if value is not None}
        if given:
            config = dataclasses.replace(
                config, **{section: dataclasses.replace(getattr(config, section), **given)}
            )
    return apply_overrides(config, overrides)


@app.command(epilog=CLASSIFY_EXAMPLE)
def classify(
    train: str = typer.Option(
        None,
        help="Training data: CSV/TSV/JSONL, label<TAB>text, ATIS/SNIPS folder, names layout.",
    ),
    dev: str = typer.Option(None, help="Dev data for model selection (same layouts)."),
    out: Path = typer.Option(None, help="The model directory to write."),
    cell: str = typer.Option(None, help="lstm, gru or rnn."),
    bidirectional: bool = typer.Option(
        None, "--bidirectional/--no-bidirectional", help="Read each text both ways."
    ),
    layers: int = typer.Option(None, help="Stacked recurrent layers."),
    hidden_size: int = typer.Option(None, help="Hidden units per direction."),
    embedding_dim: int = typer.Option(None, help="Embedding size."),
    pooling: str = typer.Option(None, help="last, mean, max or attention."),
    epochs: int = typer.Option(
        None, help="Passes over the training data (early stopping may end sooner)."
    ),
    batch_size: int = typer.Option(None, help="Examples per batch."),
    lr: float = typer.Option(None, help="Peak learning rate (AdamW)."),
    tokenizer: str = typer.Option(None, help="word, whitespace, char, zh-char, jieba or bpe."),
    text_column: str = typer.Option(
        None, help="Column / JSON field holding the text (guessed if omitted)."
    ),
    label_column: str = typer.Option(
        None, help="Column / JSON field holding the label (guessed if omitted)."
    ),
    vectors: str = typer.Option(
        None, help="word2vec/GloVe/fastText text file to initialise embeddings."
    ),
    seed: int = typer.Option(None, help="Random seed: the same seed gives the same model."),
    config: Path = typer.Option(
        None, "--config", help="A YAML/JSON config file (sections data, model, trainer)."
    ),
    overrides: list[str] = typer.Option(
        [], "--set", help="Override any config key, e.g. --set model.hidden_size=256."
    ),
    resume: Path = typer.Option(
        None, help="Continue the killed or finished run in this model directory."
    ),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar."),
) -> None:
    """Train a text classifier (N→1): intents, sentiment, a name's language."""
    from rnnkit.tasks.classification import ClassifyConfig, train_classifier

    options = {
        "data": {
            "train": train, "dev": dev, "tokenizer": tokenizer, "text_column": text_column,
            "label_column": label_column, "batch_size": batch_size, "vectors": vectors,
        },
        "model": {
            "cell": cell, "bidirectional": bidirectional, "num_layers": layers,
            "hidden_size": hidden_size, "embedding_dim": embedding_dim, "pooling": pooling,
        },
        "trainer": {"epochs": epochs, "lr": lr, "seed": seed},
    }  # fmt: skip
    run_config = build_config(ClassifyConfig, config, resume, options, overrides)
    out = check_required(run_config, out, resume)
    result = train_classifier(run_config, out, resume=resume is not None, progress=progress)
    echo_result(result)


def check_required(run_config, out: Path | None, resume: Path | None) -> Path:
    """The output directory; ``--train``, ``--dev`` and ``--out`` must be given somewhere."""
    out = resume if resume is not None else out
    for name, value in (
        ("--train", run_config.data.train),
        ("--dev", run_config.data.dev),
        ("--out", out),
    ):
        if not value:
            raise ConfigError(f"{name} is required (or give it in --config)")
    return out


def echo_result(result) -> None:
    metrics = ", ".join(f"{key} {value:.4f}" for key, value in result.best_metrics.items())
    typer.echo(
        f"best epoch {result.best_epoch} of {result.epochs_run} ({result.stop_reason}): {metrics}"
    )
    typer.echo(f"model saved to {result.out_dir}")


GENERATE_EXAMPLE = (
    "Example: rnnkit train generate --train data/names/train.tsv --dev data/names/dev.tsv "
    "--out runs/names --condition-column language --tokenizer char --cell gru --epochs 10"
)


@app.command(epilog=GENERATE_EXAMPLE)
def generate(
    train: str = typer.Option(
        None,
        help="Training texts: a labelled file (with --condition-column), one side of a "
        "source<TAB>target file (--side), or one text per line.",
    ),
    dev: str = typer.Option(None, help="Dev texts for model selection (same layout)."),
    out: Path = typer.Option(None, help="The model directory to write."),
    condition_column: str = typer.Option(
        None, help="Condition each text on this column of a labelled file (e.g. language)."
    ),
    text_column: str = typer.Option(None, help="Column / JSON field holding the text."),
    side: str = typer.Option(None, help="source or target side of a source<TAB>target file."),
    tokenizer: str = typer.Option(None, help="char, zh-char, word, whitespace, jieba or bpe."),
    bptt_length: int = typer.Option(
        None, help="Train on running text in chunks of this many steps (truncated BPTT)."
    ),
    cell: str = typer.Option(None, help="lstm, gru or rnn."),
    layers: int = typer.Option(None, help="Stacked recurrent layers."),
    hidden_size: int = typer.Option(None, help="Hidden units."),
    embedding_dim: int = typer.Option(None, help="Embedding size."),
    tie_embeddings: bool = typer.Option(
        None, "--tie-embeddings/--no-tie-embeddings", help="Share input and output embeddings."
    ),
    epochs: int = typer.Option(None, help="Passes over the training data."),
    batch_size: int = typer.Option(None, help="Texts (or running-text streams) per batch."),
    lr: float = typer.Option(None, help="Peak learning rate (AdamW)."),
    seed: int = typer.Option(None, help="Random seed: the same seed gives the same model."),
    config: Path = typer.Option(
        None, "--config", help="A YAML/JSON config file (sections data, model, trainer)."
    ),
    overrides: list[str] = typer.Option(
        [], "--set", help="Override any config key, e.g. --set model.hidden_size=256."
    ),
    resume: Path = typer.Option(
        None, help="Continue the killed or finished run in this model directory."
    ),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar."),
) -> None:
    """Train a language model (1→N), optionally conditioned on a category."""
    from rnnkit.tasks.generation import GenerateConfig, train_generator

    options = {
        "data": {
            "train": train, "dev": dev, "tokenizer": tokenizer, "text_column": text_column,
            "condition_column": condition_column, "side": side, "batch_size": batch_size,
            "bptt_length": bptt_length,
        },
        "model": {
            "cell": cell, "num_layers": layers, "hidden_size": hidden_size,
            "embedding_dim": embedding_dim, "tie_embeddings": tie_embeddings,
        },
        "trainer": {"epochs": epochs, "lr": lr, "seed": seed},
    }  # fmt: skip
    run_config = build_config(GenerateConfig, config, resume, options, overrides)
    out = check_required(run_config, out, resume)
    echo_result(train_generator(run_config, out, resume=resume is not None, progress=progress))
