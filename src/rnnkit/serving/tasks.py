"""What the service answers for each task: one registry entry per service shape.

A task (`rnnkit.tasks.TASKS`) names its shape in ``Task.serving``. An entry turns a predictor's
output for a list of texts into the task-shaped JSON of ``POST /predict`` (with a pydantic model
for the OpenAPI docs), may take per-request decoding ``options`` (translation, generation), may
offer a walk-through for ``POST /trace``, and gives the task's fields of ``GET /info``.
Translation and generation live in their own modules.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from rnnkit.serving.generation import (
    GenerateOptions,
    GeneratePrediction,
    apply_generation_limits,
    generate,
    generation_info,
)
from rnnkit.serving.schemas import ServeLimits, TraceRequest
from rnnkit.serving.translation import (
    AttentionTrace,
    AttentionTraceRequest,
    TranslateOptions,
    TranslatePrediction,
    trace_attention,
    translate,
    translation_info,
)
from rnnkit.tasks import TASKS


class LabelProbability(BaseModel):
    label: str
    probability: float


class ClassifyPrediction(BaseModel):
    """One text's label, its probability, and every label's probability (highest first)."""

    text: str
    label: str
    probability: float
    probabilities: list[LabelProbability]


class Span(BaseModel):
    """An entity or slot: its type, the text it covers, character offsets (end exclusive)."""

    type: str
    text: str
    start: int
    end: int


class TagPrediction(BaseModel):
    text: str
    tokens: list[str]
    tags: list[str]
    spans: list[Span]


class JointPrediction(BaseModel):
    """The intent with its probability, and the slots (as ``rnnkit predict --json`` prints)."""

    text: str
    intent: str
    intent_prob: float
    slots: list[Span]
    tokens: list[str]
    tags: list[str]


def as_dicts(predictor: Any, texts: list[str], options: None) -> list[dict[str, Any]]:
    return [prediction.to_dict() for prediction in predictor.predict(texts)]


def classify(predictor: Any, texts: list[str], options: None) -> list[dict[str, Any]]:
    predictions = predictor.predict(texts, top_k=len(predictor.labels))
    return [
        {
            "text": prediction.text,
            "label": prediction.label,
            "probability": prediction.probability,
            "probabilities": [
                {"label": label, "probability": probability}
                for label, probability in prediction.top
            ],
        }
        for prediction in predictions
    ]


def trace_classification(predictor: Any, request: TraceRequest) -> dict[str, Any]:
    from rnnkit.diagnostics.trace import trace_text

    return trace_text(predictor, request.text).to_dict()


def label_info(predictor: Any, limits: ServeLimits) -> dict[str, Any]:
    """Classes or tags, and a joint model's intents."""
    intents = getattr(predictor, "intents", None)
    return {
        "labels": list(predictor.labels.labels),
        "intents": None if intents is None else list(intents.labels),
    }


@dataclass(frozen=True)
class ServedTask:
    """How the service answers one task.

    ``predict(predictor, texts, options) -> [one JSON object per text]``, shaped like
    ``schema``; ``options``: the pydantic model of the request's ``options`` object, or None
    when the task takes none (then ``options`` is always None); ``apply_limits(texts, options,
    limits) -> options`` checks the task's own limits (413) and fills defaults that depend on
    them; ``trace(predictor, request) -> JSON`` for ``POST /trace`` (a ``trace_request``,
    answered as ``trace_schema`` when given), or None; ``info(predictor, limits)``: the task's
    fields of ``GET /info``.
    """

    predict: Callable[[Any, list[str], Any], list[dict[str, Any]]]
    schema: type[BaseModel]
    info: Callable[[Any, ServeLimits], dict[str, Any]] = label_info
    options: type[BaseModel] | None = None
    apply_limits: Callable[[list[str], Any, ServeLimits], Any] | None = None
    trace: Callable[[Any, Any], dict[str, Any]] | None = None
    trace_request: type[BaseModel] = TraceRequest
    trace_schema: type[BaseModel] | None = None


# Service shape (the ``serving`` of a `Task`) → how the service answers it.
SERVICE_SHAPES: dict[str, ServedTask] = {
    "classification": ServedTask(classify, ClassifyPrediction, trace=trace_classification),
    "tagging": ServedTask(as_dicts, TagPrediction),
    "joint": ServedTask(as_dicts, JointPrediction),
    "translation": ServedTask(
        translate,
        TranslatePrediction,
        info=translation_info,
        options=TranslateOptions,
        trace=trace_attention,
        trace_request=AttentionTraceRequest,
        trace_schema=AttentionTrace,
    ),
    "generation": ServedTask(
        generate,
        GeneratePrediction,
        info=generation_info,
        options=GenerateOptions,
        apply_limits=apply_generation_limits,
    ),
}


def get_served_task(task: str) -> ServedTask:
    """How the service answers the registered task ``task`` (its ``Task.serving`` shape)."""
    return TASKS.entry(task, "serving", SERVICE_SHAPES, "service shape")
