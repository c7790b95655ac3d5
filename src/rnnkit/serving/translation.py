"""What the service answers for translation models (N→M): translations with their n best
hypotheses, per-request beam options, and the attention map of ``POST /trace``."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from rnnkit.serving.schemas import ServeLimits, TraceRequest

MAX_BEAM = 16  # wider beams cost more than they gain on these models; a request may not ask more


class TranslateOptions(BaseModel):
    """Decoding options of ``POST /predict`` (`Translator.translate`'s arguments)."""

    # frozen: hashable, a batch key; strict: JSON true is not a beam size (no bool → int)
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    beam: int = Field(5, ge=1, le=MAX_BEAM, description="Beam size; 1 is greedy decoding.")
    n_best: int = Field(1, ge=1, le=MAX_BEAM, description="Hypotheses to answer (<= beam).")
    length_penalty: float = Field(
        1.0, ge=0.0, le=10.0, description="Beam scores are log p / length ** length_penalty."
    )

    @model_validator(mode="after")
    def n_best_within_beam(self) -> TranslateOptions:
        if self.n_best > self.beam:
            raise ValueError(f"n_best: expected at most beam={self.beam}, got {self.n_best}")
        return self


class TranslationHypothesis(BaseModel):
    """One translation: its text, log-probability (with ``<eos>``) and beam score."""

    text: str
    log_prob: float
    score: float


class TranslatePrediction(BaseModel):
    """The source text, its best translation, and the ``n_best`` hypotheses, best first."""

    text: str
    translation: str
    hypotheses: list[TranslationHypothesis]


class AttentionTraceRequest(TraceRequest):
    """A source text and, optionally, the translation to explain (default: the beam-5 one)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"text": "i see the cat ."}]},
    )

    translation: str | None = None


class AttentionTrace(BaseModel):
    """Attention weights while producing ``translation``: ``weights[i][j]`` is the weight of
    source token j when producing target token i (``<eos>`` is the last target token)."""

    text: str
    translation: str
    source_tokens: list[str]
    target_tokens: list[str]
    weights: list[list[float]]


def translate(
    predictor: Any, texts: list[str], options: TranslateOptions | None
) -> list[dict[str, Any]]:
    options = options or TranslateOptions()
    results = predictor.translate(
        texts, beam=options.beam, n_best=options.n_best, length_penalty=options.length_penalty
    )
    return [result.to_dict() for result in results]


def trace_attention(predictor: Any, request: AttentionTraceRequest) -> dict[str, Any]:
    translation = request.translation
    if translation is None:
        translation = predictor.translate([request.text])[0].best
    walk = predictor.attention(request.text, translation)
    return {
        "text": request.text,
        "translation": translation,
        "source_tokens": walk.source_tokens,
        "target_tokens": walk.target_tokens,
        "weights": walk.weights,
    }


def translation_info(predictor: Any, limits: ServeLimits) -> dict[str, Any]:
    data = predictor.config.get("data", {})
    return {
        "source_lang": data.get("source_lang") or None,
        "target_lang": data.get("target_lang") or None,
        "source_vocab_size": len(predictor.source_vocab),
        "target_vocab_size": len(predictor.target_vocab),
    }
