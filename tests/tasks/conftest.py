"""A tiny intent data set and a tiny trained classifier, shared by the task and CLI tests."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pytest
import torch

import rnnkit
from rnnkit.models import ClassifierConfig
from rnnkit.tasks.classification import ClassifyConfig, train_classifier
from rnnkit.tasks.common import DataSettings
from rnnkit.tasks.tagging_train import train_tagger
from rnnkit.tasks.translation_train import train_translator
from rnnkit.training import TrainerConfig, checkpoint
from tests.tasks.tagging_data import (
    tiny_joint_config,
    tiny_tag_config,
    write_conll,
    write_slot_folder,
)
from tests.tasks.translation_toys import tiny_translate_config, write_tsv

# model directory -> a copy of the in-memory weights the trainer last saved there
SAVED_WEIGHTS: dict[Path, dict[str, torch.Tensor]] = {}


def train_keeping_saved_weights(train, config, out: Path) -> Path:
    """Runs ``train(config, out)``, copying the model's weights each time the trainer saves it,
    so that tests can compare a loaded directory with the model that was saved."""
    save_model_dir = checkpoint.save_model_dir

    def save_and_keep(directory, model, files=None):
        weights = checkpoint.unwrap_model(model).state_dict()
        SAVED_WEIGHTS[Path(directory)] = {name: w.detach().clone() for name, w in weights.items()}
        save_model_dir(directory, model, files)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(checkpoint, "save_model_dir", save_and_keep)
        train(config, out, progress=False)
    return out


def load_saved_in_memory(directory: Path):
    """The predictor of ``directory`` holding the in-memory weights that training saved there."""
    predictor = rnnkit.load(directory)
    predictor.model.load_state_dict(SAVED_WEIGHTS[Path(directory)])
    return predictor


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
    return train_keeping_saved_weights(train_classifier, tiny_config(*intent_files), out)


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
    return train_keeping_saved_weights(train_tagger, tiny_tag_config(*conll_files), out)


@pytest.fixture(scope="session")
def joint_dir(tmp_path_factory, slot_folders) -> Path:
    out = tmp_path_factory.mktemp("joint") / "atis"
    return train_keeping_saved_weights(train_tagger, tiny_joint_config(*slot_folders), out)


@pytest.fixture(scope="session")
def translation_files(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("toy-translation")
    return write_tsv(folder / "train.tsv", 300, 0), write_tsv(folder / "dev.tsv", 30, 1)


@pytest.fixture(scope="session")
def translator_dir(tmp_path_factory, translation_files) -> Path:
    out = tmp_path_factory.mktemp("translator") / "en-fr"
    return train_keeping_saved_weights(
        train_translator, tiny_translate_config(*translation_files), out
    )
