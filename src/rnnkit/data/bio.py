"""Checking BIO tag sequences in training data: invalid moves are counted, located and, only
if asked, repaired.

A move is invalid when ``I-X`` does not continue an ``X`` entity: at the start of a sentence,
after ``O``, or after ``B-Y``/``I-Y`` of another type. Repairing turns such an ``I-X`` into
``B-X`` (how seqeval's default mode reads it anyway). A tag that is not ``O``, ``B-<type>`` or
``I-<type>`` is always an error: no scheme reads it.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from rnnkit.data.examples import TaggedExample
from rnnkit.data.token_files import iob1_to_bio
from rnnkit.errors import ConfigError, DataError

INVALID_BIO = ("error", "repair", "keep")
SHOWN_LOCATIONS = 3
logger = logging.getLogger("rnnkit")


def invalid_bio_positions(tags: Sequence[str]) -> list[int]:
    """Positions of the ``I-X`` tags that do not continue an ``X`` entity."""
    positions, previous = [], "O"
    for position, tag in enumerate(tags):
        if tag.startswith("I-") and previous[2:] != tag[2:]:
            positions.append(position)
        previous = tag
    return positions


def _check_tag_names(example: TaggedExample) -> None:
    for position, tag in enumerate(example.tags):
        prefix, _, kind = tag.partition("-")
        if not (tag == "O" or (prefix in ("B", "I") and kind)):
            raise DataError(
                f"token {position + 1} ({example.tokens[position]!r}): expected a BIO tag "
                f"('O', 'B-<type>' or 'I-<type>'), got {tag!r}",
                example.path,
                example.line,
            )


@dataclass(frozen=True)
class BioCheck:
    """What `check_bio` found: ``invalid`` tags in ``sentences`` sentences, the first few
    locations, and the examples to train on (repaired when asked)."""

    examples: list[TaggedExample]
    invalid: int
    sentences: int
    locations: list[str]

    def summary(self) -> str:
        shown = "; ".join(self.locations)
        more = " ..." if self.sentences > len(self.locations) else ""
        return (
            f"{self.invalid} invalid BIO tags (I-X not continuing an X entity) in "
            f"{self.sentences} sentences, first at {shown}{more}"
        )


def check_bio(examples: Sequence[TaggedExample], invalid_bio: str = "error") -> BioCheck:
    """Finds invalid BIO moves; ``invalid_bio`` says what to do with them.

    ``"error"`` raises a `DataError` with their count and first locations, ``"repair"``
    returns repaired copies (``I-X`` → ``B-X``) and logs the count, ``"keep"`` logs the count
    and trains on the tags as they are. Tags outside the BIO scheme always raise.
    """
    if invalid_bio not in INVALID_BIO:
        raise ConfigError(f"invalid_bio: expected one of {list(INVALID_BIO)}, got {invalid_bio!r}")
    invalid, sentences, locations, checked = 0, 0, [], []
    for example in examples:
        _check_tag_names(example)
        positions = invalid_bio_positions(example.tags)
        if positions:
            invalid, sentences = invalid + len(positions), sentences + 1
            if len(locations) < SHOWN_LOCATIONS:
                first = positions[0]
                locations.append(
                    f"{example.path}:{example.line} token {first + 1} "
                    f"({example.tokens[first]!r} tagged {example.tags[first]!r})"
                )
            if invalid_bio == "repair":
                example = dataclasses.replace(example, tags=iob1_to_bio(example.tags))
        checked.append(example)
    check = BioCheck(checked, invalid, sentences, locations)
    if invalid and invalid_bio == "error":
        raise DataError(
            f"{check.summary()}; repair them with --set data.invalid_bio=repair "
            "(or keep them with --set data.invalid_bio=keep)"
        )
    if invalid:
        action = "repaired (I-X → B-X)" if invalid_bio == "repair" else "kept as they are"
        logger.warning(f"{check.summary()}: {action}; --set data.invalid_bio=error stops instead")
    return check
