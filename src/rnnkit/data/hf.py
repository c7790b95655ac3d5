"""Hugging Face `datasets` as a source of classification, tagging and translation examples.

`datasets` is imported only here and only when called (``pip install rnnkit[hf]``), so the
core install does not need it. Errors name the data set and the 1-based row as ``name:row``.

Wherever a data path is read (``--train``, ``--dev``, ``rnnkit evaluate``), a path of the form
``hf:NAME[:CONFIG]:SPLIT`` names a data set instead: ``hf:imdb:train``, ``hf:glue:sst2:validation``,
or ``hf:path/to/folder:train`` for a folder written by ``Dataset(Dict).save_to_disk`` (read with
``load_from_disk``, no network). With ``HF_DATASETS_OFFLINE=1`` a Hub id is read from the local
cache only. SPLIT takes the `datasets` slice syntax: ``hf:imdb:train[:10%]``,
``hf:saved/folder:train[100:200]``, ``hf:imdb:train[:1000]+test[:1000]``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rnnkit.data.examples import ReadResult, TaggedExample
from rnnkit.data.parallel import make_pair
from rnnkit.data.report import ReadReport
from rnnkit.data.text_files import make_example, pick_column, pick_text_and_label
from rnnkit.errors import ConfigError, DataError

HF_PREFIX = "hf:"
# Column names guessed for tagging data, in this order (the Hub's NER and slot data sets).
TOKEN_COLUMNS = ("tokens", "words")
TAG_COLUMNS = ("ner_tags", "tags", "slot_tags", "slots", "labels")
INTENT_COLUMNS = ("intent", "intents")
# Column names guessed for translation pairs, after the side's language (``en``) when given;
# ``translation`` is the Hub's column of {language: text} (wmt14, opus_books, iwslt2017).
SOURCE_COLUMNS = ("source", "src", "translation")
TARGET_COLUMNS = ("target", "tgt", "translation")
# A ":" that separates the parts of an hf: spec: not one inside a split's slice (train[:10%]).
SPEC_SEPARATOR = re.compile(r":(?![^\[\]]*\])")


@dataclass(frozen=True)
class HFSpec:
    """A parsed ``hf:NAME[:CONFIG]:SPLIT`` path."""

    name: str  # a Hub id (``imdb``, ``user/data``) or a folder written by save_to_disk
    config: str | None  # the Hub configuration (``sst2`` of ``glue``); None: the default one
    split: str  # train, validation, test...; sliced as in datasets: train[:10%], train[5:50]


def is_hf_spec(path: Any) -> bool:
    """Whether ``path`` is an ``hf:...`` string rather than a file or folder."""
    return isinstance(path, str) and path.startswith(HF_PREFIX)


def parse_hf_spec(spec: str) -> HFSpec:
    """``hf:NAME:SPLIT`` or ``hf:NAME:CONFIG:SPLIT`` as an `HFSpec`; anything else is a
    `ConfigError` showing the two forms."""
    parts = SPEC_SEPARATOR.split(spec[len(HF_PREFIX) :]) if is_hf_spec(spec) else []
    if len(parts) not in (2, 3) or not all(parts):
        raise ConfigError(
            f"{spec!r}: expected hf:NAME:SPLIT or hf:NAME:CONFIG:SPLIT "
            "(e.g. hf:imdb:train, hf:glue:sst2:validation, hf:saved/folder:train[:10%])"
        )
    return HFSpec(parts[0], parts[1] if len(parts) == 3 else None, parts[-1])


def load_hf_dataset(source: Any, split: str | None = None, **load_kwargs: Any) -> Any:
    """A `datasets.Dataset`: `source` itself, an ``hf:`` spec (`parse_hf_spec`; it names its
    own split), or ``load_dataset(source, split=..., **load_kwargs)``. The split of a
    `DatasetDict` (a saved folder's too) may be sliced as `load_dataset` slices: ``train[:10%]``.

    Example: ``load_hf_dataset("csv", data_files="reviews.csv", split="train")``.
    """
    try:
        import datasets
    except ImportError:  # pragma: no cover - depends on the install
        raise ConfigError(
            "reading Hugging Face data sets needs the `datasets` package: pip install 'rnnkit[hf]'"
        ) from None
    if isinstance(source, datasets.DatasetDict):
        return select_split(source, split)
    if isinstance(source, datasets.Dataset):
        return source
    if not isinstance(source, str):
        raise ConfigError(
            f"source must be a Dataset or load_dataset's path, got {type(source).__name__}"
        )
    if is_hf_spec(source):
        spec = parse_hf_spec(source)
        if Path(spec.name).is_dir():
            if spec.config is not None:
                raise ConfigError(f"{source!r}: a saved folder has no CONFIG; use hf:FOLDER:SPLIT")
            saved = datasets.load_from_disk(spec.name)
            if isinstance(saved, datasets.Dataset):  # one split saved: SPLIT names it
                saved = datasets.DatasetDict({spec.split.partition("[")[0]: saved})
            return load_hf_dataset(saved, spec.split)
        return load_hf_dataset(spec.name, spec.split, name=spec.config, **load_kwargs)
    return load_hf_dataset(datasets.load_dataset(source, split=split, **load_kwargs), split)


def select_split(splits: Any, split: str | None) -> Any:
    """The split ``split`` of the `DatasetDict` ``splits``, read with `datasets`' own split
    syntax (``datasets.ReadInstruction``): ``train``, ``train[:10%]``, ``train[100:200]``,
    ``train[-500:]``, ``train[:50%]+validation[:50%]``; anything else is a `ConfigError`."""
    import datasets

    if split in splits:
        return splits[split]
    expected = f"split must be one of {sorted(splits)}, got {split!r}"
    if split is None or not any(mark in split for mark in "[+"):  # a plain name, not there
        raise ConfigError(expected)
    lengths = {name: len(part) for name, part in splits.items()}
    try:
        instructions = datasets.ReadInstruction.from_spec(split).to_absolute(lengths)
    except ValueError as error:
        raise ConfigError(
            f"{expected}: {str(error).rstrip('.')} (slices read as in datasets: train[:10%], "
            "train[100:200], train[:50%]+validation[:50%])"
        ) from None
    parts = [splits[i.splitname].select(range(i.from_, i.to)) for i in instructions]
    return parts[0] if len(parts) == 1 else datasets.concatenate_datasets(parts)


def source_name(source: Any, dataset: Any, split: str | None) -> str:
    """How errors name the data: the ``hf:`` spec, else ``dataset_name[split]``."""
    if is_hf_spec(source):
        return source
    return f"{dataset.info.dataset_name or 'dataset'}[{dataset.split or split or ''}]"


def open_hf(
    source: Any, split: str | None, on_error: str, load_kwargs: dict[str, Any]
) -> tuple[Any, str, ReadReport]:
    """The data set of ``source``, the name errors give it, and an empty report to fill."""
    dataset = load_hf_dataset(source, split, **load_kwargs)
    name = source_name(source, dataset, split)
    return dataset, name, ReadReport(name, on_error)


def class_names(feature: Any) -> list[str] | None:
    """The names of a `ClassLabel` feature, or of a sequence of them; None for other features."""
    return getattr(getattr(feature, "feature", feature), "names", None)


def read_hf_classification(
    source: Any,
    split: str | None = None,
    text_column: str | None = None,
    label_column: str | None = None,
    on_error: str = "raise",
    **load_kwargs: Any,
) -> ReadResult:
    """`TextExample`s from a Hugging Face data set (see `load_hf_dataset` for `source`).

    A `ClassLabel` column gives its class names; a text column holding token lists sets
    ``tokens`` (pre-tokenized data), joined by spaces for ``text``.
    """
    dataset, name, report = open_hf(source, split, on_error, load_kwargs)
    names = list(dataset.column_names)
    text_key, label_key = pick_text_and_label(names, text_column, label_column, name)
    labels = class_names(dataset.features[label_key])
    examples = []
    for row, record in enumerate(dataset, start=1):
        text, tokens = record[text_key], None
        if isinstance(text, list) and all(isinstance(t, str) for t in text):
            tokens, text = text, " ".join(text)
        try:
            label = decode(record[label_key], labels, name, row)
        except DataError as error:
            report.record(error)
            continue
        example = make_example(text, label, name, row, report)
        if example is not None:
            example.tokens = tokens
            examples.append(example)
    return ReadResult(examples, report)


def read_hf_tagging(
    source: Any,
    split: str | None = None,
    tokens_column: str | None = None,
    tags_column: str | None = None,
    intent_column: str | None = None,
    on_error: str = "raise",
    **load_kwargs: Any,
) -> ReadResult:
    """`TaggedExample`s from a Hugging Face data set of token lists and tag lists (see
    `load_hf_dataset` for `source`).

    Columns are guessed when None: tokens from `TOKEN_COLUMNS`, tags from `TAG_COLUMNS`, and
    the intent (joint models) from `INTENT_COLUMNS` when one is there. Tag ids of a sequence of
    `ClassLabel` become their names (``ner_tags`` of conll2003 → ``B-PER``...).
    """
    dataset, name, report = open_hf(source, split, on_error, load_kwargs)
    names = list(dataset.column_names)
    tokens_key = pick_column(names, tokens_column, TOKEN_COLUMNS, "tokens", name)
    tags_key = pick_column(names, tags_column, TAG_COLUMNS, "tags", name)
    intent_key = intent_column
    if intent_key is None:
        intent_key = next((n for n in names if n.lower() in INTENT_COLUMNS), None)
    elif intent_key not in names:
        raise DataError(f"missing intent column {intent_key!r}; the data has {names}", name, 1)
    tag_names = class_names(dataset.features[tags_key])
    intent_names = None if intent_key is None else class_names(dataset.features[intent_key])
    examples = []
    for row, record in enumerate(dataset, start=1):
        try:
            tokens = string_list(record[tokens_key], tokens_key, name, row)
            tags = [str(decode(tag, tag_names, name, row)) for tag in record[tags_key] or []]
            if len(tags) != len(tokens):
                raise DataError(f"{len(tokens)} tokens but {len(tags)} tags", name, row)
            intent = None
            if intent_key is not None and record[intent_key] is not None:
                intent = str(decode(record[intent_key], intent_names, name, row))
        except DataError as error:
            report.record(error)
            continue
        examples.append(TaggedExample(tokens, tags, intent, name, row))
    report.examples = len(examples)
    return ReadResult(examples, report)


def read_hf_parallel(
    source: Any,
    split: str | None = None,
    source_column: str | None = None,
    target_column: str | None = None,
    source_lang: str | None = None,
    target_lang: str | None = None,
    on_error: str = "raise",
    **load_kwargs: Any,
) -> ReadResult:
    """`ParallelExample`s from a Hugging Face data set of translation pairs (see
    `load_hf_dataset` for `source`).

    Each side is a text column: the one named, else the one called after the side's language
    (``en``), else ``source``/``src`` and ``target``/``tgt``, else ``translation``. A column of
    {language: text} (the Hub's `Translation` feature, as in wmt14 or opus_books) is read at
    the side's language: ``source_lang="en", target_lang="fr"``.
    """
    dataset, name, report = open_hf(source, split, on_error, load_kwargs)
    source_key = side_column(dataset, source_column, source_lang, SOURCE_COLUMNS, "source", name)
    target_key = side_column(dataset, target_column, target_lang, TARGET_COLUMNS, "target", name)
    examples = []
    for row, record in enumerate(dataset, start=1):
        try:
            texts = [side_text(record, *key, name, row) for key in (source_key, target_key)]
        except DataError as error:
            report.record(error)
            continue
        pair = make_pair(*texts, name, row, report)
        if pair is not None:
            examples.append(pair)
    return ReadResult(examples, report)


def side_column(
    dataset: Any,
    column: str | None,
    language: str | None,
    guesses: tuple[str, ...],
    role: str,
    name: str,
) -> tuple[str, str | None]:
    """The column of one side of a pair (`read_hf_parallel`), and the language to read in it
    when it holds one text per language (None when it holds plain texts)."""
    names = list(dataset.column_names)
    if language:
        guesses = (language.lower(), *guesses)
    key = pick_column(names, column, guesses, role, name)
    feature = dataset.features[key]
    languages = list(feature) if isinstance(feature, dict) else getattr(feature, "languages", None)
    if languages is None:
        return key, None
    if language not in languages:
        raise DataError(
            f"{role} column {key!r} holds a text per language {list(languages)}; got "
            f"{role} language {language!r} (give it with --{role} LANG, or {role}_lang=...)",
            name,
        )
    return key, language


def side_text(
    record: dict[str, Any], column: str, language: str | None, name: str, row: int
) -> str:
    """The text of one side of a pair in ``record``; a missing one is ``""`` (an empty side)."""
    value = record[column] if language is None else (record[column] or {}).get(language)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise DataError(f"column {column!r}: expected text, got {value!r}", name, row)
    return value


def string_list(value: Any, column: str, name: str, row: int) -> list[str]:
    """``value`` when it is a non-empty list of strings, else a `DataError`."""
    if not isinstance(value, Sequence) or isinstance(value, str) or not value:
        raise DataError(f"column {column!r}: expected a non-empty list of tokens", name, row)
    if not all(isinstance(item, str) for item in value):
        raise DataError(f"column {column!r}: expected strings, got {value!r}", name, row)
    return list(value)


def decode(value: Any, names: Sequence[str] | None, name: str, row: int) -> Any:
    """A label, tag or intent with a `ClassLabel` id as its name; other values as they are."""
    if names is not None and isinstance(value, int):
        if not 0 <= value < len(names):
            raise DataError(f"label id {value} outside {list(names)}", name, row)
        return names[value]
    return value
