"""How long an input a predictor reads: ``max_tokens``, and what happens to a longer one.

A text longer than ``max_tokens`` tokens is cut to its first ``max_tokens`` with one warning
giving the counts (``over_length="truncate"``, the default: nothing is refused, and the log
says what was cut), or refused with an `InputTooLongError` naming the text and its count
(``over_length="error"``). ``max_tokens=None`` (the default) reads every token. Predictors
hold one as ``predictor.token_limit``; ``rnnkit predict``/``evaluate``/``serve`` set it from
``--max-tokens`` and ``--over-length``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from rnnkit.errors import ConfigError, InputTooLongError

logger = logging.getLogger("rnnkit")
OVER_LENGTH = ("truncate", "error")
# How many over-length texts the truncation warning names (the count is always exact).
NAMED = 3


@dataclass(frozen=True)
class TokenLimit:
    """At most ``max_tokens`` tokens an input; ``over_length`` says what a longer one gets."""

    max_tokens: int | None = None  # None: no limit
    over_length: str = "truncate"  # "truncate" (with a warning) or "error" (refused)

    def __post_init__(self) -> None:
        if self.max_tokens is not None and self.max_tokens < 1:
            raise ConfigError(f"max_tokens: expected a positive integer, got {self.max_tokens}")
        if self.over_length not in OVER_LENGTH:
            raise ConfigError(
                f"over_length: expected one of {list(OVER_LENGTH)}, got {self.over_length!r}"
            )

    def apply(
        self, token_lists: Sequence[list[str]], name: Callable[[int], str] | None = None
    ) -> list[list[str]]:
        """``token_lists`` within the limit: truncated with one warning, or the first one over
        it refused; ``name(i)`` names input ``i`` in the messages (default ``text i+1``)."""
        name = name or (lambda index: f"text {index + 1}")
        limit = self.max_tokens
        over = [
            i for i, tokens in enumerate(token_lists) if limit is not None and len(tokens) > limit
        ]
        if not over:
            return list(token_lists)
        first = over[0]
        if self.over_length == "error":
            raise InputTooLongError(
                f"{name(first)}: {len(token_lists[first])} tokens, expected at most {limit} "
                "(max_tokens; over_length='truncate' reads the first ones instead)"
            )
        named = ", ".join(f"{name(i)} had {len(token_lists[i])}" for i in over[:NAMED])
        more = ", ..." if len(over) > NAMED else ""
        logger.warning(
            "%d input(s) longer than max_tokens %d truncated to their first %d tokens (%s%s)",
            len(over), limit, limit, named, more,
        )  # fmt: skip
        return [tokens[:limit] for tokens in token_lists]


NO_LIMIT = TokenLimit()  # every token is read


def set_token_limit(predictor: Any, limit: TokenLimit) -> None:
    """Gives ``predictor`` (what `rnnkit.load` returned) the ``limit``; a limit for a model
    that reads no input text (a language model) is a `ConfigError`."""
    if limit == NO_LIMIT:
        return
    if not hasattr(predictor, "token_limit"):
        raise ConfigError(
            f"max_tokens: a {predictor.task!r} model reads no input text to limit "
            "(only classify, tag, joint and translate models do)"
        )
    predictor.token_limit = limit
