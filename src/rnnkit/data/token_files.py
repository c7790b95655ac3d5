"""Streaming readers of pre-tokenized, tagged data.

CoNLL column files (also the character-per-line Chinese NER layout) and ATIS/SNIPS folders
(``seq.in``, ``seq.out``, ``label``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from rnnkit.data.examples import TaggedExample
from rnnkit.data.report import ReadReport, check_file, iter_aligned, iter_lines
from rnnkit.errors import DataError

DOCSTART = "-DOCSTART-"


def iob1_to_bio(tags: Sequence[str]) -> list[str]:
    """IOB1 → BIO (IOB2): an ``I-X`` that does not continue an ``X`` entity becomes ``B-X``.

    CoNLL-2003 writes ``B-`` only between two touching entities of one type (IOB1); BIO starts
    every entity with ``B-``. A tag that is neither ``O`` nor ``B-``/``I-`` passes through.
    """
    bio: list[str] = []
    previous = "O"
    for tag in tags:
        if tag.startswith("I-") and previous[2:] != tag[2:]:
            bio.append("B-" + tag[2:])
        else:
            bio.append(tag)
        previous = tag
    return bio


def iter_conll(
    path: str | Path,
    report: ReadReport,
    token_column: int = 0,
    tag_column: int = -1,
    convert_iob1: bool = False,
) -> Iterator[TaggedExample]:
    """Sentences of a CoNLL file: one token per line, columns split by tabs (or else spaces),
    a blank line between sentences, ``-DOCSTART-`` lines skipped.

    A malformed line (too few columns) makes its whole sentence an error: raised, or skipped and
    counted once. Each example's line is its sentence's first line.
    """
    path = check_file(path)
    needed = max(token_column, tag_column) + 1 if tag_column >= 0 else max(token_column + 1, 2)
    tokens: list[str] = []
    tags: list[str] = []
    start, broken = 0, False
    for number, line in iter_lines(path, report, bad_as_none=True):
        if line is not None and not line.strip():
            if tokens and not broken:
                yield _sentence(tokens, tags, convert_iob1, path, start, report)
            tokens, tags, broken = [], [], False
            report.blank_lines += 1
            continue
        if line is None:  # invalid UTF-8, already recorded by iter_lines
            broken = True
            continue
        fields = line.split("\t") if "\t" in line else line.split()
        if fields[0] == DOCSTART:
            continue
        if not tokens and not broken:
            start = number
        if broken:
            continue
        if len(fields) < needed or not fields[token_column] or not fields[tag_column]:
            report.record(
                DataError(
                    f"expected at least {needed} non-empty columns (token ... tag), "
                    f"found {len(fields)}: {line!r}",
                    path,
                    number,
                )
            )
            broken = True
            continue
        tokens.append(fields[token_column])
        tags.append(fields[tag_column])
    if tokens and not broken:
        yield _sentence(tokens, tags, convert_iob1, path, start, report)


def _sentence(
    tokens: list[str],
    tags: list[str],
    convert_iob1: bool,
    path: Path,
    line: int,
    report: ReadReport,
) -> TaggedExample:
    report.examples += 1
    return TaggedExample(tokens, iob1_to_bio(tags) if convert_iob1 else tags, None, str(path), line)


def intent_folder_files(folder: str | Path, need_tags: bool) -> tuple[Path, Path | None, Path]:
    """A folder's ``seq.in``, ``seq.out`` (None unless `need_tags`) and ``label``."""
    folder = Path(folder)
    seq_in, seq_out, label = folder / "seq.in", folder / "seq.out", folder / "label"
    needed = [seq_in, label] + ([seq_out] if need_tags else [])
    missing = [p.name for p in needed if not p.is_file()]
    if missing:
        raise DataError(
            f"an ATIS/SNIPS folder needs seq.in, seq.out and label; missing {missing}", folder
        )
    return seq_in, (seq_out if need_tags else None), label


def iter_intent_folder(
    folder: str | Path, report: ReadReport, need_tags: bool = True
) -> Iterator[TaggedExample]:
    """Joint intent + slot examples from line-aligned ``seq.in``, ``seq.out`` and ``label``.

    Without `need_tags` (intent classification) ``seq.out`` is not read and ``tags`` is empty.
    Errors: a tag count different from the token count (named at ``seq.out``'s line), an empty
    utterance or intent; unequal line counts always raise (the alignment is lost).
    """
    seq_in, seq_out, label = intent_folder_files(folder, need_tags)
    files = [seq_in, label] + ([seq_out] if seq_out is not None else [])
    for number, texts in iter_aligned(files, report):
        if texts is None:  # an invalid UTF-8 line in one of the files, already recorded
            continue
        tokens, intent = texts[0].split(), texts[1].strip()
        tags = texts[2].split() if len(texts) == 3 else None
        if not tokens or not intent:
            what = "utterance" if not tokens else "intent"
            report.record(DataError(f"empty {what}", seq_in if not tokens else label, number))
        elif tags is not None and len(tags) != len(tokens):
            report.record(
                DataError(
                    f"{len(tags)} tags for {len(tokens)} tokens (seq.in has {tokens})",
                    seq_out,
                    number,
                )
            )
        else:
            report.examples += 1
            yield TaggedExample(
                tokens, tags if tags is not None else [], intent, str(seq_in), number
            )
