"""What every task shares: data settings, tokenizer set-up, and the model directory format.

A model directory holds ``config.json`` (the run's typed config plus ``task``, ``tokenizer``
and versions), ``vocab.json``, ``labels.json`` and ``model.safetensors``. Loading reads JSON
and safetensors only: nothing is ever unpickled.
"""

from __future__ import annotations

import dataclasses
import inspect
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from torch import nn
from torch.utils.data import DataLoader

from rnnkit.data import (
    BucketBatchSampler,
    LabelVocab,
    ReadReport,
    Tokenizer,
    Vocab,
    get_tokenizer,
)
from rnnkit.data.tokenizer_choice import AUTO_TOKENIZER, choose_tokenizer
from rnnkit.data.tokenizers import TOKENIZERS
from rnnkit.errors import ConfigError, DataError, ModelDirectoryError
from rnnkit.nn.fast_path import describe_fast_path
from rnnkit.tasks.integrity import (
    build_model,
    format_versions,
    read_config,
    read_data_section,
    read_tokenizer,
    read_vocabularies,
)
from rnnkit.training.checkpoint import WEIGHTS_FILE
from rnnkit.training.distributed import rank, world_size

logger = logging.getLogger("rnnkit")
TaskConfig = TypeVar("TaskConfig")
REQUIRED_FILES = ("config.json", "vocab.json", "labels.json", WEIGHTS_FILE)
CHARS_FILE = "chars.json"  # the character vocabulary of a model with character features
# What evaluation does with gold labels or tags unseen in training: count them as errors
# ("wrong", the default: a model cannot predict them) or stop at the first ("error").
UNKNOWN_LABELS = ("wrong", "error")
# What the trainer's warning about dev labels unseen in training adds.
DEV_UNSEEN = "the dev metrics count them as errors"
# Character features pay off when tokens are words; on character-level data (Chinese, names
# read one character a token) they would only re-read the token itself.
CHAR_FEATURES_MIN_MEAN_LENGTH = 1.5


def log(message: str) -> None:
    logger.info(message)


# Texts with no tokens after tokenization (a BPE tokenizer drops characters it never saw, say)
# follow one rule in every task: training and evaluation data leave them out, counted and
# reported in one log line (`drop_empty`); prediction raises a `DataError` naming the text
# (`tokens_or_error`), since an answer for it would be made up.


def drop_empty(
    examples: Sequence[Any], token_lists: Sequence[Sequence[Any]], what: str
) -> tuple[list[Any], list[Any]]:
    """The examples whose token list is not empty, and those lists; logs how many were left
    out and where the first one is (``what``: e.g. ``"training texts"``)."""
    kept = [
        (example, tokens) for example, tokens in zip(examples, token_lists, strict=True) if tokens
    ]
    dropped = len(examples) - len(kept)
    if dropped:
        first = next(e for e, tokens in zip(examples, token_lists, strict=True) if not tokens)
        place = f"{getattr(first, 'path', None)}:{getattr(first, 'line', None)}"
        log(
            f"{dropped} {what} have no tokens after tokenization and were left out (first: {place})"
        )
    return [example for example, _ in kept], [tokens for _, tokens in kept]


def tokens_or_error(tokenizer: Tokenizer, texts: Sequence[str], action: str) -> list[list[str]]:
    """Each text's tokens; a text with no tokens is a `DataError` naming it (``action``: what
    the model would do with it, e.g. ``"classify"``)."""
    return nonempty_or_error(tokenizer.tokenize_batch(list(texts)), texts, action)


def nonempty_or_error(
    token_lists: list[list[str]], texts: Sequence[str], action: str
) -> list[list[str]]:
    """``token_lists`` (those of ``texts``) when none is empty, else a `DataError` naming the
    first text with no tokens (see `tokens_or_error`)."""
    for index, tokens in enumerate(token_lists):
        if not tokens:
            raise DataError(f"text {index + 1} ({texts[index]!r}) has no tokens to {action}")
    return token_lists


def report_fast_path(
    model: nn.Module, config_prefixes: dict[str, str] | None = None
) -> dict[str, str]:
    """Logs which kernel each recurrent layer trains on and what forced a slower one
    (`describe_fast_path`); returns it as ``config.json``'s ``fast_path`` entry."""
    line = describe_fast_path(model, config_prefixes)
    log(line)
    return {"fast_path": line}


@dataclass(frozen=True)
class DataSettings:
    """Where the data is and how it becomes token ids (shared by the text tasks)."""

    train: str = ""  # training data: a file or folder in any layout rnnkit.data reads
    dev: str = ""  # dev data for model selection, same layouts
    dev_holdout: float = 0.1  # without dev data: this fraction of the training data is dev
    text_column: str | None = None  # column / JSON field of the text; None guesses it
    label_column: str | None = None  # column / JSON field of the label; None guesses it
    # lines without a header: "label-text" or "text-label"; None guesses it from the training
    # file, whose orientation the dev file and later test files are then read in
    headerless: str | None = None
    # auto (picked from the training texts: zh-char, char or word, see
    # rnnkit.data.tokenizer_choice), word, whitespace, char, zh-char, zh-bigram, jieba or bpe
    tokenizer: str = "auto"
    lowercase: bool = True  # lower-case before tokenizing (where the tokenizer allows it)
    # Unicode normal form of the text before tokenizing: NFC (composed accents), NFKC (also
    # full-width forms, ligatures) or none
    normalize: str = "NFC"
    bpe_vocab_size: int = 8000  # subwords learnt by the bpe tokenizer
    min_freq: int = 1  # rarer tokens map to <unk>
    max_vocab_size: int | None = None  # vocabulary cap, specials included; None: no cap
    max_length: int | None = None  # truncate longer texts (counted); None: keep all
    batch_size: int = 64  # examples per training batch (length-bucketed)
    max_word_chars: int = 20  # character features read at most this many characters a word
    vectors: str | None = None  # word2vec/GloVe/fastText text file to initialise embeddings
    on_error: str = "raise"  # malformed rows: "raise" or "skip" (skips are counted)
    # bytes that are not UTF-8 text: "strict" (an error, as on_error says) or "replace" (U+FFFD)
    encoding_errors: str = "strict"


def bucket_loader(dataset: Any, batch_size: int, seed: int) -> DataLoader:
    """Training batches of ``dataset`` (with ``lengths`` and ``collate``): texts of similar
    length together, shuffled by ``seed`` and the epoch, this process's share under DDP."""
    sampler = BucketBatchSampler(
        dataset.lengths, batch_size, seed=seed, num_replicas=world_size(), rank=rank()
    )
    return DataLoader(dataset, batch_sampler=sampler, collate_fn=dataset.collate)


def mean_token_length(token_lists: Iterable[Sequence[str]]) -> float:
    """Characters per training token."""
    tokens = [token for tokens in token_lists for token in tokens]
    return sum(map(len, tokens)) / max(1, len(tokens))


def resolve_char_features(config: TaskConfig, token_lists: Iterable[Sequence[str]]) -> TaskConfig:
    """A task ``config`` with ``model.char_features="auto"`` decided from the training tokens
    (logged): on when they average at least ``CHAR_FEATURES_MIN_MEAN_LENGTH`` characters."""
    model = config.model  # type: ignore[attr-defined]
    if model.char_features != "auto":
        return config
    mean = mean_token_length(token_lists)
    use = mean >= CHAR_FEATURES_MIN_MEAN_LENGTH
    log(
        f"char features auto → {'on' if use else 'off'}: training tokens average "
        f"{mean:.1f} characters ({'≥' if use else '<'} {CHAR_FEATURES_MIN_MEAN_LENGTH})"
    )
    return dataclasses.replace(config, model=dataclasses.replace(model, char_features=use))


def build_tokenizer(data: DataSettings, training_texts: list[str]) -> Tokenizer:
    """The configured tokenizer; ``auto`` is decided (and logged) from the training texts, BPE
    is trained on them. The model directory's config.json records the tokenizer it became."""
    name = data.tokenizer
    if name == AUTO_TOKENIZER:
        choice = choose_tokenizer(training_texts)
        log(choice.describe())
        name = choice.name
    tokenizer = tokenizer_with(name, lowercase=data.lowercase, normalize=data.normalize)
    if name == "bpe":
        tokenizer.train(training_texts, vocab_size=data.bpe_vocab_size)
    return tokenizer


def tokenizer_with(name: str, **settings: Any) -> Tokenizer:
    """The tokenizer ``name`` with those of ``settings`` it takes (``char`` has no ``hmm``)."""
    accepted = inspect.signature(TOKENIZERS[name]).parameters if name in TOKENIZERS else {}
    return get_tokenizer(name, **{key: settings[key] for key in settings if key in accepted})


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
    unknown_labels: str = "wrong"  # labels/tags unseen in training: "wrong" or "error"
    beam: int = 5  # translation: beam size (1: greedy decoding)
    encoding_errors: str = "strict"  # bytes that are not UTF-8: an error, or "replace" (U+FFFD)
    # The columns of an hf: data set; None: those training read (else guessed)
    tokens_column: str | None = None  # tagging: the column of token lists
    tags_column: str | None = None  # tagging: the column of tag lists
    intent_column: str | None = None  # joint: the column of intents
    source_column: str | None = None  # translation: the column of source texts
    target_column: str | None = None  # translation: the column of target texts
    # translation: the languages (line-aligned files' suffixes, an hf: translation column's keys)
    source_lang: str | None = None
    target_lang: str | None = None

    def __post_init__(self) -> None:
        check_unknown_labels(self.unknown_labels)


def check_unknown_labels(value: str) -> None:
    """Raises a `ConfigError` unless ``value`` is one of `UNKNOWN_LABELS`."""
    if value not in UNKNOWN_LABELS:
        raise ConfigError(f"unknown_labels: expected one of {list(UNKNOWN_LABELS)}, got {value!r}")


@dataclass(frozen=True)
class Unseen:
    """Gold labels (or tags) of an evaluation set that training never saw: how many, and the
    first one with its file and line."""

    kind: str  # what they are: "label", "intent" or "tag"
    count: int = 0  # how many (tags: tokens, not sentences)
    first: str = ""  # the first one, e.g. "'B-SONG' (token 2, 'sings')"
    path: str | None = None  # the first one's file
    line: int | None = None  # and line

    @classmethod
    def find(
        cls,
        kind: str,
        found: Iterable[tuple[str, str, str | None, int | None]],
        known: LabelVocab,
    ) -> Unseen:
        """Counts the ``(label, description, path, line)`` items whose label is not in
        ``known``; keeps the first one's description and place."""
        unseen = [item for item in found if item[0] not in known]
        if not unseen:
            return cls(kind)
        _, first, path, line = unseen[0]
        return cls(kind, len(unseen), first, path, line)

    @property
    def place(self) -> str:
        """``file:line`` of the first one, as far as the examples record it."""
        if self.line is None:
            return self.path or "an example without a file"
        return f"{self.path}:{self.line}" if self.path else f"line {self.line}"

    def error(self) -> DataError:
        """The error ``--unknown-labels error`` stops with: the first one, at its line."""
        return DataError(
            f"unknown {self.kind} {self.first}: not seen in training "
            "(--unknown-labels wrong counts it as an error)",
            self.path,
            self.line,
        )

    def summary(self) -> str:
        """E.g. ``1 intent unseen in training (first at valid/seq.in:418: 'x')``."""
        what = self.kind if self.count == 1 else f"{self.kind}s"
        return f"{self.count} {what} unseen in training (first at {self.place}: {self.first})"


def warn_unseen(unseen: Iterable[Unseen], consequence: str) -> None:
    """Logs one warning line with each kind's count and first file:line, then
    ``consequence``; nothing when every count is 0."""
    present = [item for item in unseen if item.count]
    if present:
        logger.warning("%s; %s", "; ".join(item.summary() for item in present), consequence)


def handle_unseen(unknown_labels: str, unseen: Iterable[Unseen]) -> None:
    """Applies the ``unknown_labels`` policy before an evaluation: ``"error"`` raises at the
    first unseen label or tag; ``"wrong"`` warns with `warn_unseen` (the evaluation then counts
    them as errors)."""
    check_unknown_labels(unknown_labels)
    present = [item for item in unseen if item.count]
    if present and unknown_labels == "error":
        raise present[0].error()
    warn_unseen(present, "counted as errors (--unknown-labels error stops instead)")


@dataclass(frozen=True)
class SavedModel:
    model: nn.Module
    tokenizer: Tokenizer
    vocab: Vocab
    labels: LabelVocab | None  # None when the directory has no labels.json
    config: dict[str, Any]
    data: Any  # config.json's data section, checked and typed


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
    data: tuple[type, tuple[str, ...]],
    required: tuple[str, ...] = REQUIRED_FILES,
) -> SavedModel:
    """Rebuilds the model, tokenizer and vocabularies saved in ``directory`` for ``task``.

    ``required`` lists the files the task needs; ``sizes`` maps each vocabulary file to the
    model-config field holding its size (``labels.json`` is read when present); ``data`` is
    the task's data-settings class and the keys of it the predictor reads. Any damage is a
    `ModelDirectoryError` naming the file (see `rnnkit.tasks.integrity`).
    """
    directory = check_model_directory(directory, required)
    config = read_config(directory, task)
    data_settings = read_data_section(directory, config, *data)
    model = build_model(directory, config, config_class, model_class)
    vocabularies = read_vocabularies(directory, model.config, sizes)
    return SavedModel(
        model=model.eval(),
        tokenizer=read_tokenizer(directory, config["tokenizer"]),
        vocab=vocabularies["vocab.json"],
        labels=vocabularies.get("labels.json"),
        config=config,
        data=data_settings,
    )


def required_file(directory: str | Path, name: str) -> Path:
    """``directory / name``; a `ModelDirectoryError` when that file is missing."""
    path = Path(directory) / name
    if not path.is_file():
        raise ModelDirectoryError(f"{directory} is not a complete model directory: missing {name}")
    return path


def read_char_vocab(directory: str | Path, model: nn.Module) -> Vocab | None:
    """The character vocabulary (``chars.json``) of a model with character features, else
    None."""
    if not model.config.char_features:
        return None
    return Vocab.load(required_file(directory, CHARS_FILE))
