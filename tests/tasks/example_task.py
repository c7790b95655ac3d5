"""A minimal task, to show what a new task implements: sequence-pair classification.

"Do these two texts say the same thing?" A pair is one text holding both sides separated by a
tab (``"what time is it\\ttell me the time"``); the model reads both sides joined by a separator
word. This one module is all the task is: registered in `rnnkit.tasks.TASKS`, it gets
``rnnkit train pair``, ``evaluate``, ``predict``, ``export``, ``serve`` and ``rnnkit.load``.
It reuses the classifier's model, so it names the classifier's ONNX graphs and service shape.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from pathlib import Path

from rnnkit.data import read_classification
from rnnkit.errors import DataError
from rnnkit.tasks import Task
from rnnkit.tasks.base import data_options, encoder_options, trainer_options
from rnnkit.tasks.classification import Classifier, ClassifyConfig, train_classifier
from rnnkit.tasks.reports import print_classification_report, print_prediction
from rnnkit.training import FitResult

TASK = "pair"
SEPARATOR = "|||"  # the word between the two sides, as the model reads them
JOINED_DIR = "pairs"  # in the model directory: the joined texts the model was trained on


def join_pair(text: str) -> str:
    """``"first<TAB>second"`` as the model reads it: ``"first ||| second"``."""
    first, tab, second = text.partition("\t")
    if not tab:
        raise DataError(f"{text!r}: expected two texts separated by a tab")
    return f"{first} {SEPARATOR} {second}"


class PairClassifier(Classifier):
    """A classifier of text pairs: `Classifier` with each pair joined before it is read."""

    task = TASK

    def tokenize(self, texts: Sequence[str]) -> list[list[str]]:
        return super().tokenize([join_pair(text) for text in texts])


def write_joined(path: str, out: Path) -> str:
    """The pairs of ``path`` (JSONL with ``text`` and ``label``) joined, as a JSONL file."""
    out.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        json.dumps({"text": join_pair(example.text), "label": example.label})
        for example in read_classification(path).examples
    ]
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(out)


def train_pairs(
    config: ClassifyConfig, out_dir: str | Path, *, resume: bool = False, progress: bool = True
) -> FitResult:
    """Joins the pairs of ``config.data.train``/``dev`` and trains a classifier on them."""
    if not resume:  # a resumed run's config already names the joined files
        joined = Path(out_dir) / JOINED_DIR
        data = dataclasses.replace(
            config.data,
            train=write_joined(config.data.train, joined / "train.jsonl"),
            dev=write_joined(config.data.dev, joined / "dev.jsonl"),
        )
        config = dataclasses.replace(config, data=data)
    return train_classifier(config, out_dir, resume=resume, progress=progress, task=TASK)


PAIR = Task(
    name=TASK,
    summary="Train a text-pair classifier: does the second text say what the first says?",
    example="rnnkit train pair --train pairs/train.jsonl --dev pairs/dev.jsonl --out runs/pairs",
    config_class=ClassifyConfig,
    train=train_pairs,
    predictor=PairClassifier,
    metrics=("accuracy", "macro_f1", "weighted_f1"),
    print_report=print_classification_report,
    print_prediction=print_prediction,
    train_options=(
        *data_options("JSONL pairs: text (the two sides, tab-separated) and label.", None, False),
        *encoder_options("model", regularisers=False),
        *trainer_options(),
    ),
    onnx="classifier",
    serving="classification",
)
