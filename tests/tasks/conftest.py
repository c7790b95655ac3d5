"""A tiny intent data set and a tiny trained classifier, shared by the task and CLI tests."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pytest

from rnnkit.models import ClassifierConfig
from rnnkit.tasks.classification import ClassifyConfig, train_classifier
from rnnkit.tasks.common import DataSettings
from rnnkit.tasks.tagging_train import train_tagger
from rnnkit.tasks.translation import train_translator
from rnnkit.training import TrainerConfig
from tests.tasks.tagging_data import (
    tiny_joint_config,
    tiny_tag_config,
    write_conll,
    write_slot_folder,
)
from tests.tasks.translation_toys import tiny_translate_config, write_tsv

PHRASES = {
    "ask_time": [
        "what time is it",
        "tell me the time",
        "current time please",
        "what is the time now",
    ],
    "weather": ["will it rain today", "weather in paris", "is it sunny", "how cold is it outside"],
    "play_music": ["play some jazz", "put on music", "play my playlist", "start the song"],
}


def write_intents(path: Path, copies: int, seed: int) -> Path:
    rows = [(text, label) for label, texts in PHRASES.items() for text in texts] * copies
    random.Random(seed).shuffle(rows)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows(rows)
    return path


def tiny_config(train: Path, dev: Path, **trainer) -> ClassifyConfig:
    return ClassifyConfig(
        data=DataSettings(train=str(train), dev=str(dev), batch_size=8),
        model=ClassifierConfig(embedding_dim=16, hidden_size=16, cell="gru", bidirectional=True),
        trainer=TrainerConfig(
            epochs=trainer.pop("epochs", 8), lr=1e-2, monitor="accuracy", mode="max", **trainer
        ),
    )


@pytest.fixture(scope="session")
def intent_files(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("intents")
    return write_intents(folder / "train.csv", 4, 0), write_intents(folder / "dev.csv", 1, 1)


@pytest.fixture(scope="session")
def trained_dir(tmp_path_factory, intent_files) -> Path:
    out = tmp_path_factory.mktemp("model") / "intent"
    train_classifier(tiny_config(*intent_files), out, progress=False)
    return out


@pytest.fixture(scope="session")
def conll_files(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("conll")
    return write_conll(folder / "train.tsv", 3, 0), write_conll(folder / "dev.tsv", 1, 1)


@pytest.fixture(scope="session")
def slot_folders(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("slots")
    return write_slot_folder(folder / "train", 2, 0), write_slot_folder(folder / "dev", 1, 1)


@pytest.fixture(scope="session")
def tagger_dir(tmp_path_factory, conll_files) -> Path:
    out = tmp_path_factory.mktemp("tagger") / "ner"
    train_tagger(tiny_tag_config(*conll_files), out, progress=False)
    return out


@pytest.fixture(scope="session")
def joint_dir(tmp_path_factory, slot_folders) -> Path:
    out = tmp_path_factory.mktemp("joint") / "atis"
    train_tagger(tiny_joint_config(*slot_folders), out, progress=False)
    return out


@pytest.fixture(scope="session")
def translation_files(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("toy-translation")
    return write_tsv(folder / "train.tsv", 300, 0), write_tsv(folder / "dev.tsv", 30, 1)


@pytest.fixture(scope="session")
def translator_dir(tmp_path_factory, translation_files) -> Path:
    out = tmp_path_factory.mktemp("translator") / "en-fr"
    train_translator(tiny_translate_config(*translation_files), out, progress=False)
    return out
