"""What the service answers for each task: one registry entry per task model.

An entry turns a predictor's output for a list of texts into the task-shaped JSON of
``POST /predict`` (with a pydantic model for the OpenAPI docs), and may offer a walk-through
for ``POST /trace``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from rnnkit.errors import ConfigError


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


def as_dicts(predictor: Any, texts: list[str]) -> list[dict[str, Any]]:
    return [prediction.to_dict() for prediction in predictor.predict(texts)]


def classify(predictor: Any, texts: list[str]) -> list[dict[str, Any]]:
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


def trace_classification(predictor: Any, text: str) -> dict[str, Any]:
    from rnnkit.diagnostics.trace import trace_text

    return trace_text(predictor, text).to_dict()


@dataclass(frozen=True)
class ServedTask:
    """``predict(predictor, texts) -> [one JSON object per text]``, shaped like ``schema``;
    ``trace(predictor, text) -> JSON`` or None when the task has no walk-through."""

    predict: Callable[[Any, list[str]], list[dict[str, Any]]]
    schema: type[BaseModel]
    trace: Callable[[Any, str], dict[str, Any]] | None = None


SERVED_TASKS: dict[str, ServedTask] = {
    "classify": ServedTask(classify, ClassifyPrediction, trace_classification),
    "tag": ServedTask(as_dicts, TagPrediction),
    "joint": ServedTask(as_dicts, JointPrediction),
}


def get_served_task(task: str) -> ServedTask:
    if task not in SERVED_TASKS:
        raise ConfigError(f"task: the service knows {sorted(SERVED_TASKS)}, got {task!r}")
    return SERVED_TASKS[task]
