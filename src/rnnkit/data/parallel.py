"""Streaming readers of translation pairs.

Either a ``source<TAB>target`` file (Tatoeba/manythings; extra columns such as attribution are
ignored) or two line-aligned files (``train.en`` + ``train.de``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from rnnkit.data.examples import ParallelExample
from rnnkit.data.report import ReadReport, check_file, iter_aligned, iter_lines
from rnnkit.errors import DataError


def make_pair(
    source: str, target: str, path: str | Path, line: int, report: ReadReport
) -> ParallelExample | None:
    """A `ParallelExample`, or None after recording an empty side with `report`."""
    for side, text in (("source", source), ("target", target)):
        if not text.strip():
            report.record(DataError(f"empty {side} sentence", path, line))
            return None
    report.examples += 1
    return ParallelExample(source.strip(), target.strip(), str(path), line)


def iter_parallel_tsv(path: str | Path, report: ReadReport) -> Iterator[ParallelExample]:
    """``source<TAB>target[<TAB>ignored...]`` lines, no header."""
    path = check_file(path)
    for number, line in iter_lines(path, report):
        if not line.strip():
            report.blank_lines += 1
            continue
        fields = line.split("\t")
        if len(fields) < 2:
            report.record(DataError("expected source<TAB>target, found no tab", path, number))
            continue
        pair = make_pair(fields[0], fields[1], path, number, report)
        if pair is not None:
            yield pair


def iter_parallel_files(
    source_path: str | Path, target_path: str | Path, report: ReadReport
) -> Iterator[ParallelExample]:
    """Line *i* of `source_path` paired with line *i* of `target_path`.

    Unequal line counts always raise a `DataError` (see `iter_aligned`).
    """
    files = [check_file(source_path), check_file(target_path)]
    for number, texts in iter_aligned(files, report):
        if texts is None:  # invalid UTF-8, already recorded
            continue
        pair = make_pair(texts[0], texts[1], files[0], number, report)
        if pair is not None:
            yield pair
