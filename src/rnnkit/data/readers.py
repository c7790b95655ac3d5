"""Readers for every task's data layout, one entry point per task.

- `read_classification`: CSV/TSV with a header, JSONL, ``label<TAB>text`` or ``text<TAB>label``
  lines without a header, an ATIS/SNIPS folder (its intents), the names TSV, a folder of
  ``<Label>.txt`` files.
- `read_tagging`: CoNLL column files (also character-per-line Chinese NER), ATIS/SNIPS folders.
- `read_parallel`: a ``source<TAB>target`` file, or a pair of line-aligned files.

All three also take ``hf:NAME[:CONFIG]:SPLIT``, a Hugging Face data set (`rnnkit.data.hf`).

Each returns ``ReadResult(examples, report)``; the ``iter_*`` functions they use stream. With
``on_error="raise"`` (default) the first malformed row raises a `DataError` naming file and line;
with ``on_error="skip"`` bad rows are skipped and counted in ``report.skipped``, with the first
few kept in ``report.errors``. Bytes that are not UTF-8 text are such a malformed row, unless
``encoding_errors="replace"`` (an explicit opt-in) reads them as U+FFFD.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

from rnnkit.data.examples import ParallelExample, ReadResult, TaggedExample, TextExample
from rnnkit.data.hf import (
    is_hf_spec,
    load_hf_dataset,
    read_hf_classification,
    read_hf_parallel,
    read_hf_tagging,
)
from rnnkit.data.parallel import iter_parallel_files, iter_parallel_tsv
from rnnkit.data.report import ReadReport, check_on_error, iter_lines
from rnnkit.data.text_files import (
    LABEL_COLUMNS,
    TEXT_COLUMNS,
    iter_jsonl,
    iter_label_text,
    iter_names_folder,
    iter_table,
    label_comes_first,
)
from rnnkit.data.token_files import iob1_to_bio, iter_conll, iter_intent_folder
from rnnkit.errors import ConfigError, DataError

__all__ = [
    "CLASSIFICATION_FORMATS",
    "HEADERLESS_FORMATS",
    "ParallelExample",
    "ReadReport",
    "ReadResult",
    "TaggedExample",
    "TextExample",
    "detect_classification_format",
    "iob1_to_bio",
    "iter_classification",
    "iter_conll",
    "iter_intent_folder",
    "iter_jsonl",
    "iter_label_text",
    "iter_names_folder",
    "iter_parallel_files",
    "iter_parallel_tsv",
    "iter_table",
    "load_hf_dataset",
    "read_classification",
    "read_hf_classification",
    "read_hf_parallel",
    "read_hf_tagging",
    "read_parallel",
    "read_tagging",
]


def _intents(folder: Path, report: ReadReport, **_: object) -> Iterator[TextExample]:
    for ex in iter_intent_folder(folder, report, need_tags=False):
        yield TextExample(" ".join(ex.tokens), ex.intent or "", ex.tokens, ex.path, ex.line)


# format name → streaming reader(path, report, text_column=..., label_column=...)
CLASSIFICATION_FORMATS: dict[str, Callable[..., Iterator[TextExample]]] = {
    "csv": lambda path, report, **columns: iter_table(path, report, delimiter=",", **columns),
    "tsv": lambda path, report, **columns: iter_table(path, report, delimiter="\t", **columns),
    "jsonl": iter_jsonl,
    "label-text": lambda path, report, **_: iter_label_text(path, report),
    "text-label": lambda path, report, **_: iter_label_text(path, report, label_first=False),
    "intent-folder": _intents,
    "names-folder": lambda path, report, **_: iter_names_folder(path, report),
}
# The layouts of tab-separated lines without a header, with what each line holds.
HEADERLESS_FORMATS = {"label-text": "label<TAB>text", "text-label": "text<TAB>label"}


def detect_classification_format(
    path: str | Path,
    text_column: str | None = None,
    encoding_errors: str = "strict",
    headerless: str | None = None,
    label_column: str | None = None,
) -> str:
    """Guesses the layout: folders by their files, ``.csv``/``.jsonl`` by suffix, other text
    files by their first line: a header naming a text or label column → ``tsv``, else lines
    without a header, ``headerless`` when given (the training file's orientation), else
    ``label-text`` or ``text-label`` as their columns' values say (`label_comes_first`).
    """
    path = Path(path)
    if path.is_dir():
        if (path / "seq.in").is_file():
            return "intent-folder"
        if any(path.glob("*.txt")):
            return "names-folder"
        raise DataError("expected an ATIS/SNIPS folder (seq.in, label) or <Label>.txt files", path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    # Lines that are not UTF-8 are left to the reader to report.
    lines = (text for _, text in iter_lines(path, ReadReport(str(path), "skip", encoding_errors)))
    first = next(lines, "")
    header = {name.strip().lower() for name in first.split("\t")}
    named = {column.lower() for column in (text_column, label_column) if column}
    if header & (named or {*TEXT_COLUMNS, *LABEL_COLUMNS}):
        return "tsv"
    if headerless is not None:
        return headerless
    return "label-text" if label_comes_first(itertools.chain([first], lines)) else "text-label"


def iter_classification(
    path: str | Path,
    report: ReadReport,
    text_column: str | None = None,
    label_column: str | None = None,
    format: str | None = None,
    headerless: str | None = None,
) -> Iterator[TextExample]:
    """Streams `TextExample`s from any classification layout (`format` guessed when None;
    ``headerless`` is the orientation of lines without a header, guessed when None)."""
    format = format or detect_classification_format(
        path, text_column, report.encoding_errors, headerless, label_column
    )
    if format not in CLASSIFICATION_FORMATS:
        raise ConfigError(
            f"unknown format {format!r}; expected one of {sorted(CLASSIFICATION_FORMATS)}"
        )
    reader = CLASSIFICATION_FORMATS[format]
    yield from reader(Path(path), report, text_column=text_column, label_column=label_column)


def read_classification(
    path: str | Path,
    text_column: str | None = None,
    label_column: str | None = None,
    on_error: str = "raise",
    format: str | None = None,
    encoding_errors: str = "strict",
    headerless: str | None = None,
) -> ReadResult:
    """Reads labelled texts from a file or folder in any layout listed in the module docstring.

    Args:
        text_column, label_column: column (or JSON field) names; guessed from common names
            (text/sentence/review/name..., label/intent/language...) when None.
        on_error: ``"raise"`` or ``"skip"`` (skipped rows are counted in the report).
        format: one of `CLASSIFICATION_FORMATS` to bypass the guess.
        encoding_errors: ``"strict"`` or ``"replace"`` (bytes that are not UTF-8 → U+FFFD).
        headerless: ``"label-text"`` or ``"text-label"``: how to read a file of lines without
            a header (a dev or test file read as its training file was); None guesses.
    """
    if headerless is not None and headerless not in HEADERLESS_FORMATS:
        raise ConfigError(
            f"unknown headerless layout {headerless!r}; expected one of {list(HEADERLESS_FORMATS)}"
        )
    if is_hf_spec(path):
        return read_hf_classification(path, None, text_column, label_column, on_error)
    report = ReadReport(str(path), on_error, encoding_errors)
    examples = list(
        iter_classification(path, report, text_column, label_column, format, headerless)
    )
    return ReadResult(examples, report)


def read_tagging(
    path: str | Path,
    on_error: str = "raise",
    token_column: int = 0,
    tag_column: int = -1,
    convert_iob1: bool = False,
    encoding_errors: str = "strict",
    tokens_column: str | None = None,
    tags_column: str | None = None,
    intent_column: str | None = None,
) -> ReadResult:
    """Reads tagged sentences: an ATIS/SNIPS folder (with intents), a CoNLL column file, or an
    ``hf:`` data set of token and tag lists (`rnnkit.data.hf.read_hf_tagging`).

    Args:
        token_column, tag_column: CoNLL columns (default first and last).
        convert_iob1: convert IOB1 tags (original CoNLL-2003) to BIO.
        encoding_errors: ``"strict"`` or ``"replace"`` (bytes that are not UTF-8 → U+FFFD).
        tokens_column, tags_column, intent_column: an ``hf:`` data set's columns; None guesses.
    """
    if is_hf_spec(path):
        return read_hf_tagging(
            path, None, tokens_column, tags_column, intent_column, on_error=on_error
        )
    report = ReadReport(str(path), on_error, encoding_errors)
    if Path(path).is_dir():
        stream = iter_intent_folder(path, report, need_tags=True)
    else:
        stream = iter_conll(path, report, token_column, tag_column, convert_iob1)
    return ReadResult(list(stream), report)


def read_parallel(
    path: str | Path | tuple[str | Path, str | Path],
    on_error: str = "raise",
    encoding_errors: str = "strict",
    source_column: str | None = None,
    target_column: str | None = None,
    source_lang: str | None = None,
    target_lang: str | None = None,
) -> ReadResult:
    """Reads translation pairs: a ``source<TAB>target`` file, a ``(source, target)`` file pair
    (``encoding_errors="replace"`` reads bytes that are not UTF-8 as U+FFFD), or an ``hf:``
    data set (its columns and the languages to read in them: `read_hf_parallel`)."""
    check_on_error(on_error)
    if is_hf_spec(path):
        return read_hf_parallel(
            path, None, source_column, target_column, source_lang, target_lang, on_error
        )
    if isinstance(path, (tuple, list)):
        if len(path) != 2:
            raise ConfigError(f"expected (source_path, target_path), got {len(path)} paths")
        report = ReadReport(f"{path[0]} + {path[1]}", on_error, encoding_errors)
        stream = iter_parallel_files(path[0], path[1], report)
    else:
        report = ReadReport(str(path), on_error, encoding_errors)
        stream = iter_parallel_tsv(path, report)
    return ReadResult(list(stream), report)
