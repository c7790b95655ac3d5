"""``rnnkit train <task>``: train a model from data files into a model directory."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated, Any

import typer

from rnnkit.cli.options import Device, Precision
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
    """``config`` with the fields ``values`` set in the (dotted, nested) section ``path``."""
    if not path:
        return dataclasses.replace(config, **values)
    inner = replace_section(getattr(config, path[0]), path[1:], values)
    return dataclasses.replace(config, **{path[0]: inner})


# Options every ``train`` command shares (typer reads them from these annotations).
Train = Annotated[str | None, typer.Option(help="Training data (any layout the task reads).")]
Dev = Annotated[str | None, typer.Option(help="Dev data for model selection (same layouts).")]
Out = Annotated[Path | None, typer.Option(help="The model directory to write.")]
Cell = Annotated[str | None, typer.Option(help="lstm, gru or rnn.")]
Bidirectional = Annotated[
    bool | None,
    typer.Option("--bidirectional/--no-bidirectional", help="Read each text both ways."),
]
Layers = Annotated[int | None, typer.Option(help="Stacked recurrent layers.")]
HiddenSize = Annotated[int | None, typer.Option(help="Hidden units per direction.")]
EmbeddingDim = Annotated[int | None, typer.Option(help="Embedding size.")]
Tokenizer = Annotated[
    str | None,
    typer.Option(
        help="auto (default: zh-char for CJK text, char when most texts are one word, else "
        "word; the choice is printed), word, whitespace, char, zh-char, jieba or bpe."
    ),
]
Epochs = Annotated[
    int | None, typer.Option(help="Passes over the training data (early stopping may end sooner).")
]
MaxMinutes = Annotated[
    float | None, typer.Option(help="Stop at the first epoch end after this many minutes.")
]
BatchSize = Annotated[int | None, typer.Option(help="Examples per batch.")]
LearningRate = Annotated[float | None, typer.Option("--lr", help="Peak learning rate (AdamW).")]
Vectors = Annotated[
    str | None, typer.Option(help="word2vec/GloVe/fastText text file to initialise embeddings.")
]
Seed = Annotated[int | None, typer.Option(help="Random seed: the same seed gives the same model.")]
ConfigFile = Annotated[
    Path | None,
    typer.Option("--config", help="A YAML/JSON config file (sections data, model, trainer)."),
]
Overrides = Annotated[
    list[str],
    typer.Option("--set", help="Override any config key, e.g. --set model.hidden_size=256."),
]
Resume = Annotated[
    Path | None, typer.Option(help="Continue the killed or finished run in this model directory.")
]
Progress = Annotated[bool, typer.Option("--progress/--no-progress", help="Show a progress bar.")]
# The encoder's regularisers (docs/training.md, "Regularisation"); all off by default.
LockedDropout = Annotated[
    bool | None,
    typer.Option(
        "--locked-dropout/--no-locked-dropout",
        help="One dropout mask per sequence for all time steps (Gal & Ghahramani 2016).",
    ),
]
WeightDrop = Annotated[
    float | None,
    typer.Option(help="DropConnect on the recurrent weights W_hh (AWD-LSTM); stays fused."),
]
EmbeddingRowDropout = Annotated[
    float | None, typer.Option(help="Drop whole words from the embedding matrix per batch.")
]
Zoneout = Annotated[
    float | None,
    typer.Option(help="Units keep their previous state with this probability (Python loop)."),
]
LayerNorm = Annotated[
    bool | None,
    typer.Option("--layer-norm/--no-layer-norm", help="Layer-normalised LSTM/GRU (Python loop)."),
]


def regularisation_options(
    locked_dropout: bool | None,
    weight_drop: float | None,
    embedding_row_dropout: float | None,
    zoneout: float | None,
    layer_norm: bool | None,
) -> dict[str, Any]:
    """The encoder config fields of the regularisation options (None: not given)."""
    return {
        "locked_dropout": locked_dropout, "weight_drop": weight_drop,
        "embedding_row_dropout": embedding_row_dropout, "zoneout": zoneout,
        "layer_norm": layer_norm,
    }  # fmt: skip


@app.command(epilog=CLASSIFY_EXAMPLE)
def classify(
    train: Train = None,
    dev: Dev = None,
    out: Out = None,
    cell: Cell = None,
    bidirectional: Bidirectional = None,
    layers: Layers = None,
    hidden_size: HiddenSize = None,
    embedding_dim: EmbeddingDim = None,
    pooling: Annotated[str | None, typer.Option(help="last, mean, max or attention.")] = None,
    locked_dropout: LockedDropout = None,
    weight_drop: WeightDrop = None,
    embedding_row_dropout: EmbeddingRowDropout = None,
    zoneout: Zoneout = None,
    layer_norm: LayerNorm = None,
    epochs: Epochs = None,
    max_minutes: MaxMinutes = None,
    batch_size: BatchSize = None,
    lr: LearningRate = None,
    tokenizer: Tokenizer = None,
    text_column: Annotated[
        str | None, typer.Option(help="Column / JSON field holding the text (guessed if omitted).")
    ] = None,
    label_column: Annotated[
        str | None, typer.Option(help="Column / JSON field holding the label (guessed if omitted).")
    ] = None,
    vectors: Vectors = None,
    seed: Seed = None,
    config: ConfigFile = None,
    overrides: Overrides = [],  # noqa: B006 (typer reads the default; never mutated)
    resume: Resume = None,
    progress: Progress = True,
    device: Device = None,
    precision: Precision = None,
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
            **regularisation_options(
                locked_dropout, weight_drop, embedding_row_dropout, zoneout, layer_norm
            ),
        },
        "trainer": {"epochs": epochs, "max_minutes": max_minutes, "lr": lr, "seed": seed,
                    "device": device, "precision": precision},
    }  # fmt: skip
    run_config = build_config(ClassifyConfig, config, resume, options, overrides)
    out = resume if resume is not None else out
    result = train_classifier(
        check_required(run_config, out), out, resume=resume is not None, progress=progress
    )
    report_result(result)


TAG_EXAMPLE = (
    "Example: rnnkit train tag --train conll2003/train.bio.tsv --dev conll2003/dev.bio.tsv "
    "--out runs/ner --char-features --crf"
)
JOINT_EXAMPLE = (
    "Example: rnnkit train joint --train atis/train --dev atis/valid --out runs/atis "
    "--char-features"
)


def tagging_command(joint: bool):
    """The ``train tag`` / ``train joint`` command: the same options, another task."""

    def command(
        train: Annotated[
            str | None,
            typer.Option(help="CoNLL column file, char-per-line Chinese NER, ATIS/SNIPS."),
        ] = None,
        dev: Dev = None,
        out: Out = None,
        cell: Cell = None,
        bidirectional: Bidirectional = None,
        layers: Layers = None,
        hidden_size: HiddenSize = None,
        embedding_dim: EmbeddingDim = None,
        crf: Annotated[
            bool | None, typer.Option("--crf/--no-crf", help="A CRF over tag scores.")
        ] = None,
        char_features: Annotated[
            bool | None,
            typer.Option("--char-features/--no-char-features", help="A char Bi-LSTM per word."),
        ] = None,
        locked_dropout: LockedDropout = None,
        weight_drop: WeightDrop = None,
        embedding_row_dropout: EmbeddingRowDropout = None,
        zoneout: Zoneout = None,
        layer_norm: LayerNorm = None,
        tokenizer: Annotated[
            str | None,
            typer.Option(
                help="Splits raw text when predicting: auto (default: char when the training "
                "tokens are single characters, else word), word, whitespace, char, zh-char, jieba."
            ),
        ] = None,
        iob1: Annotated[
            bool | None, typer.Option("--iob1/--bio", help="Tags are IOB1 (original CoNLL-2003).")
        ] = None,
        invalid_bio: Annotated[
            str | None,
            typer.Option(help="Invalid BIO moves in training data: error, repair or keep."),
        ] = None,
        epochs: Epochs = None,
        max_minutes: MaxMinutes = None,
        batch_size: BatchSize = None,
        lr: LearningRate = None,
        vectors: Vectors = None,
        seed: Seed = None,
        config: ConfigFile = None,
        overrides: Overrides = [],  # noqa: B006 (typer reads the default; never mutated)
        resume: Resume = None,
        progress: Progress = True,
        device: Device = None,
        precision: Precision = None,
    ) -> None:
        from rnnkit.tasks.tagging_train import JointTaskConfig, TagConfig, train_tagger

        options = {
            "data": {
                "train": train, "dev": dev, "tokenizer": tokenizer, "convert_iob1": iob1,
                "invalid_bio": invalid_bio, "batch_size": batch_size, "vectors": vectors,
            },
            "model": {
                "cell": cell, "bidirectional": bidirectional, "num_layers": layers,
                "hidden_size": hidden_size, "embedding_dim": embedding_dim, "use_crf": crf,
                "char_features": char_features,
                **regularisation_options(
                    locked_dropout, weight_drop, embedding_row_dropout, zoneout, layer_norm
                ),
            },
            "trainer": {"epochs": epochs, "max_minutes": max_minutes, "lr": lr, "seed": seed,
                    "device": device, "precision": precision},
        }  # fmt: skip
        config_class = JointTaskConfig if joint else TagConfig
        run_config = build_config(config_class, config, resume, options, overrides)
        out = resume if resume is not None else out
        result = train_tagger(
            check_required(run_config, out), out, resume=resume is not None, progress=progress
        )
        report_result(result)

    command.__doc__ = (
        "Train a joint intent + slot model (N→1 and N→N on one encoder)."
        if joint
        else "Train a sequence tagger (N→N): slot filling, named entities, Chinese NER."
    )
    return command


def check_required(run_config, out: Path | None):
    """``--train``, ``--dev`` and ``--out`` must be given (options or the config file)."""
    for name, value in (
        ("--train", run_config.data.train),
        ("--dev", run_config.data.dev),
        ("--out", out),
    ):
        if not value:
            raise ConfigError(f"{name} is required (or give it in --config)")
    return run_config


def report_result(result) -> None:
    metrics = ", ".join(f"{key} {value:.4f}" for key, value in result.best_metrics.items())
    typer.echo(
        f"best epoch {result.best_epoch} of {result.epochs_run} ({result.stop_reason}): {metrics}"
    )
    typer.echo(f"model saved to {result.out_dir}")


app.command(name="tag", epilog=TAG_EXAMPLE)(tagging_command(joint=False))
app.command(name="joint", epilog=JOINT_EXAMPLE)(tagging_command(joint=True))


TRANSLATE_EXAMPLE = (
    "Example: rnnkit train translate --train ../shared/data/eng-fra/train.txt "
    "--dev ../shared/data/eng-fra/dev.txt --out runs/en-fr --epochs 10  "
    "(line-aligned files: --train ../shared/data/multi30k/train --dev ../shared/data/multi30k/val "
    "--source de --target en)"
)
TokenizerName = "word, whitespace, char, zh-char, jieba or bpe"


@app.command(epilog=TRANSLATE_EXAMPLE)
def translate(
    train: Annotated[
        str | None,
        typer.Option(
            help="Training pairs: a source<TAB>target file, or with --source/--target a path "
            "prefix P naming the line-aligned files P.SRC and P.TGT."
        ),
    ] = None,
    dev: Dev = None,
    out: Out = None,
    source: Annotated[
        str | None, typer.Option(help="Source suffix of line-aligned files (de reads P.de).")
    ] = None,
    target: Annotated[
        str | None, typer.Option(help="Target suffix of line-aligned files (en reads P.en).")
    ] = None,
    reverse: Annotated[
        bool | None,
        typer.Option("--reverse/--no-reverse", help="Tab-separated files: column 2 into 1."),
    ] = None,
    source_tokenizer: Annotated[str | None, typer.Option(help=TokenizerName + ".")] = None,
    target_tokenizer: Annotated[
        str | None, typer.Option(help=TokenizerName + "; zh-char or jieba for Chinese.")
    ] = None,
    cell: Cell = None,
    bidirectional: Bidirectional = None,
    layers: Annotated[int | None, typer.Option(help="Encoder and decoder layers.")] = None,
    hidden_size: Annotated[
        int | None, typer.Option(help="Encoder hidden units per direction.")
    ] = None,
    embedding_dim: EmbeddingDim = None,
    attention: Annotated[str | None, typer.Option(help="additive, dot or general.")] = None,
    locked_dropout: LockedDropout = None,
    weight_drop: WeightDrop = None,
    embedding_row_dropout: EmbeddingRowDropout = None,
    zoneout: Zoneout = None,
    layer_norm: LayerNorm = None,
    epochs: Epochs = None,
    batch_size: BatchSize = None,
    lr: LearningRate = None,
    seed: Seed = None,
    max_minutes: MaxMinutes = None,
    config: ConfigFile = None,
    overrides: Overrides = [],  # noqa: B006 (typer reads the default; never mutated)
    resume: Resume = None,
    progress: Progress = True,
    device: Device = None,
    precision: Precision = None,
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
            **regularisation_options(
                locked_dropout, weight_drop, embedding_row_dropout, zoneout, layer_norm
            ),
        },
        "model.decoder": {
            "cell": cell, "num_layers": layers, "embedding_dim": embedding_dim,
            "attention": attention,
        },
        "trainer": {"epochs": epochs, "max_minutes": max_minutes, "lr": lr, "seed": seed,
                    "device": device, "precision": precision},
    }  # fmt: skip
    run_config = build_config(TranslateConfig, config, resume, options, overrides)
    out = resume if resume is not None else out
    result = train_translator(
        check_required(run_config, out), out, resume=resume is not None, progress=progress
    )
    report_result(result)


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
    tokenizer: Tokenizer = None,
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
    max_minutes: MaxMinutes = None,
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
    device: Device = None,
    precision: Precision = None,
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
        "trainer": {"epochs": epochs, "max_minutes": max_minutes, "lr": lr, "seed": seed,
                    "device": device, "precision": precision},
    }  # fmt: skip
    run_config = build_config(GenerateConfig, config, resume, options, overrides)
    out = resume if resume is not None else out
    result = train_generator(
        check_required(run_config, out), out, resume=resume is not None, progress=progress
    )
    report_result(result)
