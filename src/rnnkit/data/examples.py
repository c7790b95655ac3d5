"""Typed examples produced by the readers; each remembers the file and line it came from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from rnnkit.data.report import ReadReport


@dataclass(slots=True)
class TextExample:
    """One text with one label (classification; names; a conditioned generator's prompt).

    `tokens` is set when the source is pre-tokenized (ATIS/SNIPS); encoders then skip the tokenizer.
    """

    text: str
    label: str
    tokens: list[str] | None = None
    path: str | None = None
    line: int | None = None


@dataclass(slots=True)
class TaggedExample:
    """A token sequence with one tag per token (BIO), and the utterance's intent when known."""

    tokens: list[str]
    tags: list[str]
    intent: str | None = None
    path: str | None = None
    line: int | None = None


@dataclass(slots=True)
class ParallelExample:
    """A source sentence and its translation."""

    source: str
    target: str
    path: str | None = None
    line: int | None = None


class ReadResult(NamedTuple):
    """What a ``read_*`` function returns: ``examples, report = read_classification(path)``.

    (Not generic: a generic NamedTuple needs Python 3.11 and rnnkit supports 3.10.)
    """

    examples: list
    report: ReadReport
