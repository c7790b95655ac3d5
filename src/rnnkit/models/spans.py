"""Turning a BIO tag sequence into labelled spans, the prediction format of the taggers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypedDict

from rnnkit.errors import ConfigError


class Span(TypedDict):
    """An entity or slot: ``tokens[start:end]`` (``end`` exclusive, token offsets)."""

    type: str
    text: str
    start: int
    end: int


def spans_from_bio(tokens: Sequence[str], tags: Sequence[str], separator: str = " ") -> list[Span]:
    """The spans of a BIO-tagged sentence, in order.

    ``start`` and ``end`` are token offsets, ``end`` exclusive (``tokens[start:end]``);
    ``text`` joins those tokens with ``separator`` (``""`` for character-level Chinese).
    Invalid sequences are read as seqeval's default (conlleval) mode reads them, so spans and
    scores agree: an ``I-X`` that does not continue an ``X`` span (after ``O``, at the
    start, or after ``B-Y``/``I-Y``) starts a new span of type X; ``B-X`` always starts one.

    Raises a `ConfigError` if the two lengths differ or a tag is not ``O``, ``B-*``, ``I-*``.
    """
    if len(tokens) != len(tags):
        raise ConfigError(f"tags: expected one tag per token ({len(tokens)}), got {len(tags)} tags")
    spans: list[Span] = []
    current: tuple[str, int] | None = None  # (type, start) of the open span
    for position, tag in enumerate(tags):
        prefix, _, kind = tag.partition("-")
        if not (tag == "O" or (prefix in ("B", "I") and kind)):
            raise ConfigError(
                f"tags[{position}]: expected 'O', 'B-<type>' or 'I-<type>', got {tag!r}"
            )
        if current is not None and (prefix != "I" or kind != current[0]):
            spans.append(_span(tokens, separator, current, position))
            current = None
        if prefix in ("B", "I") and current is None:
            current = (kind, position)
    if current is not None:
        spans.append(_span(tokens, separator, current, len(tags)))
    return spans


def _span(tokens: Sequence[str], separator: str, opened: tuple[str, int], end: int) -> Span:
    kind, start = opened
    return {"type": kind, "text": separator.join(tokens[start:end]), "start": start, "end": end}
