"""What the service answers for language models (1→N): each text is a prompt (``""`` for none)
and the answer holds the texts generated from it, with per-request decoding options."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from rnnkit.serving.schemas import RequestTooLargeError, ServeLimits

MAX_BEAM = 16  # as for translation: a request may not ask a wider beam
# Options that only one strategy reads: giving one with another strategy is an error, as for
# the flags of ``rnnkit generate``.
STRATEGY_OPTIONS = {
    "sample": ("temperature", "top_k", "top_p", "seed"),
    "beam": ("beam_size", "length_penalty"),
}


class GenerateOptions(BaseModel):
    """Decoding options of ``POST /predict`` (`TextGenerator.generate`'s arguments)."""

    # frozen: hashable, a batch key; strict: JSON true is not a beam size (no bool → int)
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    condition: str | tuple[float, ...] | None = Field(
        None, description="A category name (see /info conditions), a vector, or null."
    )
    n: int = Field(1, ge=1, description="Texts per prompt (the n best with strategy beam).")
    strategy: Literal["sample", "greedy", "beam"] = "sample"
    max_length: int | None = Field(
        None, ge=1, description="Tokens to generate at most (default: the server's limit)."
    )
    temperature: float = Field(1.0, gt=0.0, le=100.0, description="sample: softmax(logits / T).")
    top_k: int | None = Field(None, ge=1, description="sample: among the k most probable tokens.")
    top_p: float | None = Field(None, gt=0.0, le=1.0, description="sample: nucleus of mass p.")
    seed: int | None = Field(
        None, ge=0, lt=2**63, description="sample: the same seed gives the same texts."
    )
    beam_size: int = Field(5, ge=1, le=MAX_BEAM, description="beam: the beam width.")
    length_penalty: float = Field(
        1.0, ge=0.0, le=10.0, description="beam: scores are log p / length ** length_penalty."
    )

    @model_validator(mode="after")
    def options_fit_the_strategy(self) -> GenerateOptions:
        for strategy, names in STRATEGY_OPTIONS.items():
            for name in names:
                if name in self.model_fields_set and self.strategy != strategy:
                    raise ValueError(
                        f"{name}: only with strategy {strategy!r}, got strategy {self.strategy!r}"
                    )
        if self.strategy == "beam" and self.n > self.beam_size:
            raise ValueError(f"n: expected at most beam_size={self.beam_size}, got {self.n}")
        return self


class GeneratedText(BaseModel):
    """One generated text (the prompt and its continuation), the continuation's tokens, its
    log-probability (with ``<eos>`` when emitted) and the decoder's score."""

    text: str
    tokens: list[str]
    log_prob: float
    score: float


class GeneratePrediction(BaseModel):
    """The prompt (``text``), the condition, and the ``n`` texts generated from it."""

    text: str
    condition: str | list[float] | None
    generated: list[GeneratedText]


def apply_generation_limits(
    texts: list[str], options: GenerateOptions | None, limits: ServeLimits
) -> GenerateOptions:
    """The options to run with (``max_length`` defaults to the limit); 413 past the limits."""
    options = options or GenerateOptions()
    if options.max_length is None:
        options = options.model_copy(update={"max_length": limits.max_generate_length})
    elif options.max_length > limits.max_generate_length:
        raise RequestTooLargeError(
            f"max_length: expected at most {limits.max_generate_length} tokens "
            f"(max_generate_length), got {options.max_length}"
        )
    if len(texts) * options.n > limits.max_batch_size:
        raise RequestTooLargeError(
            f"n: expected at most {limits.max_batch_size} generated texts per request "
            f"(max_batch_size), got {len(texts)} prompts x n={options.n}"
        )
    return options


def generate(predictor: Any, texts: list[str], options: GenerateOptions) -> list[dict[str, Any]]:
    """One `TextGenerator.generate` call per prompt (it continues one prefix at a time)."""
    decoding = options.model_dump(exclude={"condition", "n"})  # another strategy's: ignored
    condition = options.condition
    if isinstance(condition, tuple):  # a vector (a tuple here only to keep the options hashable)
        condition = list(condition)
    answers = []
    for prompt in texts:
        generated = predictor.generate(options.n, condition, prompt, **decoding)
        answers.append(
            {
                "text": prompt,
                "condition": condition,
                "generated": [
                    {"text": g.text, "tokens": g.tokens, "log_prob": g.log_prob, "score": g.score}
                    for g in generated
                ],
            }
        )
    return answers


def generation_info(predictor: Any, limits: ServeLimits) -> dict[str, Any]:
    conditions = predictor.conditions
    return {
        "conditions": None if conditions is None else list(conditions.labels),
        "condition_size": predictor.config.get("model", {}).get("condition_size", 0),
        "vocab_size": len(predictor.vocab),
        "max_generate_length": limits.max_generate_length,
    }
