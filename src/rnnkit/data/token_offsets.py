"""Where each token of a text lies in it, when the tokenizer changed the text before splitting
it (Unicode normalisation, lower-casing): the spans a tagger reports point into the user's
text, as written."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import regex

GRAPHEME = regex.compile(r"\X")  # a user-perceived character: a base and its marks, a syllable


def token_offsets(
    text: str, tokens: Sequence[str], prepare: Callable[[str], str] = str
) -> list[tuple[int, int]]:
    """Each token's ``(start, end)`` in ``text`` (``end`` exclusive), the tokens found in order.

    ``prepare`` is what the tokenizer did to the text before splitting it. When it changed the
    text, the tokens are found in the prepared text, prepared one grapheme at a time, and each
    grapheme maps back to its place in ``text``: an NFD ``e`` + accent that NFC made one ``é``
    is one token character and two text characters. A token not found (a tokenizer that
    rewrote more) starts where the previous one ended.
    """
    if prepare(text) == text:
        return _find_in_order(text, tokens)
    pieces, starts, ends, position = [], [], [], 0
    for grapheme in GRAPHEME.findall(text):
        piece = prepare(grapheme)
        pieces.append(piece)
        starts += [position] * len(piece)
        position += len(grapheme)
        ends += [position] * len(piece)
    offsets = []
    for start, end in _find_in_order("".join(pieces), tokens):
        if start == end:  # an empty token, or one past the end: no text of its own
            place = starts[start] if start < len(starts) else len(text)
            offsets.append((place, place))
        else:
            offsets.append((starts[start], ends[min(end, len(ends)) - 1]))
    return offsets


def _find_in_order(text: str, tokens: Sequence[str]) -> list[tuple[int, int]]:
    """Each token's span in ``text``, searched from the end of the one before; a token not
    found takes the cursor, its end clipped to the text."""
    offsets, position = [], 0
    for token in tokens:
        start = text.find(token, position)
        if start < 0:
            start = position
        position = min(start + len(token), len(text))
        offsets.append((start, position))
    return offsets
