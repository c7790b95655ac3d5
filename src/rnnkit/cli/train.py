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
            config = replace_section(config, section.split("."), given)
    return apply_overrides(config, overrides)


def replace_section(config: Any, path: list[str], values: dict[str, Any]) -> Any:
    """``config`` with the fields ``values`` set in the (nested) section ``path``."""
    if not path:
        return dataclasses.replace(config, **values)
    inner = replace_section(getattr(config, path[0]), path[1:], values)
    return dataclasses.replace(config, **{path[0]: inner})


def require_paths(train: str, dev: str, out: Path | None) -> None:
    for name, value in (("--train", train), ("--dev", dev), ("--out", out)):
        if not value:
            raise ConfigError(f"{name} is required (or give it in --config)")


def report_fit(result) -> None:
    metrics = ", ".join(f"{key} {value:.4f}" for key, value in result.best_metrics.items())
    typer.echo(
        f"best epoch {result.best_epoch} of {result.epochs_run} ({result.stop_reason}): {metrics}"
    )
    typer.echo(f"model saved to {result.out_dir}")


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
    out = resume if resume is not None else out
    require_paths(run_config.data.train, run_config.data.dev, out)
    result = train_classifier(run_config, out, resume=resume is not None, progress=progress)
    report_fit(result)


TRANSLATE_EXAMPLE = (
    "Example: rnnkit train translate --train ../shared/data/eng-fra/train.txt "
    "--dev ../shared/data/eng-fra/dev.txt --out runs/en-fr --epochs 10  "
    "(line-aligned files: --train ../shared/data/multi30k/train --dev ../shared/data/multi30k/val "
    "--source de --target en)"
)


@app.command(epilog=TRANSLATE_EXAMPLE)
def translate(
    train: str = typer.Option(
        None,
        help="Training pairs: a source<TAB>target file, or with --source/--target a path "
        "prefix P naming the line-aligned files P.SRC and P.TGT.",
    ),
    dev: str = typer.Option(None, help="Dev pairs for model selection (same layouts)."),
    out: Path = typer.Option(None, help="The model directory to write."),
    source: str = typer.Option(
        None, help="Source language suffix of line-aligned files (e.g. de reads P.de)."
    ),
    target: str = typer.Option(None, help="Target language suffix (e.g. en reads P.en)."),
    reverse: bool = typer.Option(
        None, "--reverse/--no-reverse", help="Tab-separated files: translate column 2 into 1."
    ),
    source_tokenizer: str = typer.Option(
        None, help="word, whitespace, char, zh-char, jieba or bpe."
    ),
    target_tokenizer: str = typer.Option(
        None, help="As --source-tokenizer; zh-char or jieba for Chinese targets."
    ),
    cell: str = typer.Option(None, help="Encoder and decoder cell: lstm, gru or rnn."),
    bidirectional: bool = typer.Option(
        None, "--bidirectional/--no-bidirectional", help="Bidirectional encoder."
    ),
    layers: int = typer.Option(None, help="Stacked encoder (and decoder) layers."),
    hidden_size: int = typer.Option(None, help="Encoder hidden units per direction."),
    embedding_dim: int = typer.Option(None, help="Embedding size (source and target)."),
    attention: str = typer.Option(None, help="additive, dot or general."),
    epochs: int = typer.Option(None, help="Passes over the training data."),
    batch_size: int = typer.Option(None, help="Sentence pairs per batch."),
    lr: float = typer.Option(None, help="Peak learning rate (AdamW)."),
    seed: int = typer.Option(None, help="Random seed: the same seed gives the same model."),
    max_minutes: float = typer.Option(
        None, help="Stop at the first epoch end after this many minutes."
    ),
    config: Path = typer.Option(
        None, "--config", help="A YAML/JSON config file (sections data, model, trainer)."
    ),
    overrides: list[str] = typer.Option(
        [], "--set", help="Override any config key, e.g. --set model.decoder.input_feeding=false."
    ),
    resume: Path = typer.Option(
        None, help="Continue the killed or finished run in this model directory."
    ),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar."),
) -> None:
    """Train an encoder–decoder translator with attention (N→M)."""
    from rnnkit.tasks.translation import TranslateConfig, train_translator

    options = {
        "data": {
            "train": train, "dev": dev, "source_lang": source, "target_lang": target,
            "reverse": reverse, "source_tokenizer": source_tokenizer,
            "target_tokenizer": target_tokenizer, "batch_size": batch_size,
        },
        "model.encoder": {
            "cell": cell, "bidirectional": bidirectional, "num_layers": layers,
            "hidden_size": hidden_size, "embedding_dim": embedding_dim,
        },
        "model.decoder": {
            "cell": cell, "num_layers": layers, "embedding_dim": embedding_dim,
            "attention": attention,
        },
        "trainer": {"epochs": epochs, "lr": lr, "seed": seed},
    }  # fmt: skip
    run_config = build_config(TranslateConfig, config, resume, options, overrides)
    out = resume if resume is not None else out
    require_paths(run_config.data.train, run_config.data.dev, out)
    result = train_translator(
        run_config, out, resume=resume is not None, progress=progress, max_minutes=max_minutes
    )
    report_fit(result)
