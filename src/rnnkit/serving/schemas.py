"""Request bodies and limits of the HTTP service (pydantic models, shown in the OpenAPI docs)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator

from rnnkit.errors import ConfigError, RnnkitError
from rnnkit.tasks.token_limit import TokenLimit


class RequestTooLargeError(RnnkitError):
    """A request over the service's limits (answered 413)."""


class ErrorBody(BaseModel):
    """Every error answer: a message, or FastAPI's list of validation errors (422)."""

    detail: str | list[dict[str, Any]]


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``responses`` of a route that may answer these error codes."""
    descriptions = {
        400: "The body could not be parsed (not JSON, or not UTF-8)",
        401: "Missing or wrong API key (X-API-Key)",
        413: "Over the service's limits (texts, characters, body size, tokens, generated tokens)",
        422: "Malformed request, or a text with no tokens",
    }
    return {code: {"model": ErrorBody, "description": descriptions[code]} for code in codes}


@dataclass(frozen=True)
class ServeLimits:
    """What one request may ask; larger requests are answered 413 with a JSON error body."""

    max_text_length: int = 1000  # characters per text
    max_batch_size: int = 64  # texts per request (generation: prompts x texts per prompt)
    max_generate_length: int = 100  # tokens generated per text (generation's max_length)
    max_tokens: int | None = None  # tokens read per text; None: all (within max_text_length)
    over_length: str = "truncate"  # a longer text: "truncate" (logged) or "error" (413)

    def __post_init__(self) -> None:
        for name in ("max_text_length", "max_batch_size", "max_generate_length"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{name}: expected a positive integer, got {value!r}")
        TokenLimit(self.max_tokens, self.over_length)  # checks both

    @property
    def max_body_bytes(self) -> int:
        """A request body larger than this cannot be within the limits (UTF-8 takes at most 4
        bytes a character, JSON escapes up to 6; 1 KiB per text for the punctuation)."""
        return self.max_batch_size * (6 * self.max_text_length + 1024)


class PredictRequest(BaseModel):
    """Either one ``text`` or a list of ``texts`` (generation: prompts). Tasks with decoding
    options (translate, generate) extend it with an ``options`` object of their own."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"text": "What time is it?"}, {"texts": ["hi", "bye"]}]},
    )

    text: str | None = None
    texts: list[str] | None = None

    @model_validator(mode="after")
    def exactly_one(self) -> PredictRequest:
        if (self.text is None) == (self.texts is None):
            raise ValueError("expected exactly one of 'text' or 'texts'")
        if self.texts is not None and not self.texts:
            raise ValueError("texts: expected at least one text, got an empty list")
        return self

    def all_texts(self) -> list[str]:
        return [self.text] if self.text is not None else list(self.texts or [])


class TraceRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"text": "hi"}]})

    text: str
