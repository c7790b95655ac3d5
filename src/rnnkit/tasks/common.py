"""What every task shares: data settings, tokenizer set-up, and the model directory format.

A model directory holds ``config.json`` (the run's typed config plus ``task``, ``tokenizer``
and versions), ``vocab.json``, ``labels.json`` and ``model.safetensors``. Loading reads JSON
and safetensors only: nothing is ever unpickled.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import nn

from rnnkit.data import (
    LabelVocab,
    ReadReport,
    Tokenizer,
    Vocab,
    get_tokenizer,
)
from rnnkit.data.tokenizers import TOKENIZERS
from rnnkit.errors import ModelDirectoryError
from rnnkit.tasks.integrity import (
    build_model,
    format_versions,
    read_config,
    read_tokenizer,
    read_vocabularies,
)
from rnnkit.training.checkpoint import WEIGHTS_FILE

logger = logging.getLogger("rnnkit")
REQUIRED_FILES = ("config.json", "vocab.json", "labels.json", WEIGHTS_FILE)


def log(message: str) -> None:
    logger.info(message)


@dataclass(frozen=True)
class DataSettings:
    """Where the data is and how it becomes token ids (shared by the text tasks)."""

    train: str = ""  # training data: a file or folder in any layout rnnkit.data reads
    dev: str = ""  # dev data for model selection, same layouts
    text_column: str | None = None  # column / JSON field of the text; None guesses it
    label_column: str | None = None  # column / JSON field of the label; None guesses it
    tokenizer: str = "word"  # word, whitespace, char, zh-char, jieba or bpe
    lowercase: bool = True  # lower-case before tokenizing (where the tokenizer allows it)
    bpe_vocab_size: int = 8000  # subwords learnt by the bpe tokenizer
    min_freq: int = 1  # rarer tokens map to <unk>
    max_vocab_size: int | None = None  # vocabulary cap, specials included; None: no cap
    max_length: int | None = None  # truncate longer texts (counted); None: keep all
    batch_size: int = 64  # examples per training batch (length-bucketed)
    vectors: str | None = None  # word2vec/GloVe/fastText text file to initialise embeddings
    on_error: str = "raise"  # malformed rows: "raise" or "skip" (skips are counted)


def build_tokenizer(data: DataSettings, training_texts: list[str]) -> Tokenizer:
    """The configured tokenizer; BPE is trained on the training texts."""
    options = {}
    if (
        data.tokenizer in TOKENIZERS
        and "lowercase" in inspect.signature(TOKENIZERS[data.tokenizer]).parameters
    ):
        options["lowercase"] = data.lowercase
    tokenizer = get_tokenizer(data.tokenizer, **options)
    if data.tokenizer == "bpe":
        tokenizer.train(training_texts, vocab_size=data.bpe_vocab_size)
    return tokenizer


def describe_read(path: str, report: ReadReport, count: int) -> None:
    """Logs how many examples a file gave and, if any were skipped, where."""
    log(f"{path}: {count} examples")
    if report.skipped:
        log(report.summary())


def model_files(
    config: dict[str, Any], tokenizer: Tokenizer, vocab: Vocab, labels: LabelVocab | None
) -> dict[str, Any]:
    """The JSON files of a model directory, versions and tokenizer included.

    ``labels=None`` (a model without labels, e.g. an unconditioned language model) writes no
    ``labels.json``.
    """
    files = {
        "config.json": {**config, "tokenizer": tokenizer.to_config(), **format_versions()},
        "vocab.json": vocab.to_dict(),
    }
    if labels is not None:
        files["labels.json"] = labels.to_dict()
    return files


@dataclass(frozen=True)
class EvaluateOptions:
    """How ``rnnkit evaluate`` reads labelled data; each task uses the fields it needs."""

    text_column: str | None = None  # classification: column / JSON field of the text
    label_column: str | None = None  # classification: column / JSON field of the label
    unknown_labels: str = "error"  # labels/tags unseen in training: "error" or "wrong"
    beam: int = 5  # translation: beam size (1: greedy decoding)


@dataclass(frozen=True)
class SavedModel:
    model: nn.Module
    tokenizer: Tokenizer
    vocab: Vocab
    labels: LabelVocab | None  # None when the directory has no labels.json
    config: dict[str, Any]


def read_task_name(directory: str | Path) -> str:
    """The ``task`` recorded in a model directory's ``config.json``."""
    return read_config(check_model_directory(directory, ("config.json",)))["task"]


def check_model_directory(
    directory: str | Path, required: tuple[str, ...] = REQUIRED_FILES
) -> Path:
    """Checks that ``directory`` is a model directory with every ``required`` file."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ModelDirectoryError(f"model directory not found: {directory}")
    missing = [name for name in required if not (directory / name).is_file()]
    if missing:
        raise ModelDirectoryError(
            f"{directory} is not a complete model directory: missing {', '.join(missing)}"
        )
    return directory


def read_model_directory(
    directory: str | Path,
    task: str,
    config_class: type,
    model_class: type[nn.Module],
    sizes: Mapping[str, str],
    required: tuple[str, ...] = REQUIRED_FILES,
) -> SavedModel:
    """Rebuilds the model, tokenizer and vocabularies saved in ``directory`` for ``task``.

    ``required`` lists the files the task needs; ``sizes`` maps each vocabulary file to the
    model-config field holding its size (``labels.json`` is read when present). Any damage
    is a `ModelDirectoryError` naming the file (see `rnnkit.tasks.integrity`).
    """
    directory = check_model_directory(directory, required)
    config = read_config(directory, task)
    model = build_model(directory, config, config_class, model_class)
    vocabularies = read_vocabularies(directory, model.config, sizes)
    return SavedModel(
        model=model.eval(),
        tokenizer=read_tokenizer(directory, config["tokenizer"]),
        vocab=vocabularies["vocab.json"],
        labels=vocabularies.get("labels.json"),
        config=config,
    )
