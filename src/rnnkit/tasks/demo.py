"""The built-in demo: an intent classifier trained on the bilingual data set shipped inside
the package (``rnnkit/resources/intents``), then asked the question of the RNN tutorial
(docs/rnn-tutorial.md)."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from rnnkit.models import ClassifierConfig
from rnnkit.tasks.classification import ClassifyConfig
from rnnkit.tasks.common import DataSettings
from rnnkit.training import TrainerConfig

DEMO_QUESTIONS = ("What time is it?", "现在几点了?")


def demo_data() -> tuple[Path, Path]:
    """The shipped intent data set: ``(train.tsv, dev.tsv)``."""
    folder = files("rnnkit") / "resources" / "intents"
    return Path(str(folder / "train.tsv")), Path(str(folder / "dev.tsv"))


def demo_config(seed: int = 0) -> ClassifyConfig:
    """A small unidirectional LSTM over Chinese characters and English words (zh-char keeps
    Latin runs whole), so one tokenizer serves both languages and the trace reads left to
    right like the O1 … On of docs/rnn-tutorial.md."""
    train, dev = demo_data()
    return ClassifyConfig(
        data=DataSettings(train=str(train), dev=str(dev), tokenizer="zh-char", batch_size=32),
        model=ClassifierConfig(
            embedding_dim=64, hidden_size=128, cell="lstm", bidirectional=False, output_dropout=0.3
        ),
        trainer=TrainerConfig(
            epochs=20, lr=5e-3, monitor="accuracy", mode="max", patience=6, seed=seed
        ),
    )
