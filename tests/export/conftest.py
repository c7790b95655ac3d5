"""A tiny trained Bi-LSTM intent classifier with attention pooling, exported to ONNX."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from rnnkit.export import export_onnx
from rnnkit.tasks.classification import train_classifier
from rnnkit.tasks.generation import train_generator
from tests.tasks.conftest import tiny_config, write_intents


@pytest.fixture(scope="session")
def exported_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("exported")
    train = write_intents(folder / "train.csv", 4, 0)
    dev = write_intents(folder / "dev.csv", 1, 1)
    config = tiny_config(train, dev, epochs=10)
    model = dataclasses.replace(config.model, cell="lstm", pooling="attention")
    out = folder / "intent"
    train_classifier(dataclasses.replace(config, model=model), out, progress=False)
    export_onnx(out)
    return out


# The trained tagger and joint model of the task tests (fixtures re-exported here).
from tests.tasks.conftest import (  # noqa: E402, F401
    conll_files,
    joint_dir,
    slot_folders,
    tagger_dir,
    translation_files,
    translator_dir,
)
from tests.tasks.test_generation import tiny_config as tiny_generate_config  # noqa: E402
from tests.tasks.test_generation import write_names  # noqa: E402


def exported_copy(directory: Path, tmp_path_factory) -> Path:
    copy = shutil.copytree(directory, tmp_path_factory.mktemp("served") / directory.name)
    export_onnx(copy)
    return copy


@pytest.fixture(scope="session")
def exported_translator_dir(request, tmp_path_factory) -> Path:
    """A copy of the task tests' toy English → "French" translator, exported to ONNX."""
    return exported_copy(request.getfixturevalue("translator_dir"), tmp_path_factory)


@pytest.fixture(scope="session")
def name_files(tmp_path_factory) -> tuple[Path, Path]:
    """The generation tests' names of two "languages" (Ana, Bor)."""
    folder = tmp_path_factory.mktemp("names")
    return write_names(folder / "train.tsv", 6, 0), write_names(folder / "dev.tsv", 1, 1)


@pytest.fixture(scope="session")
def names_dir(tmp_path_factory, name_files) -> Path:
    """A character language model of names, conditioned on their language (Ana or Bor), and
    exported to ONNX."""
    out = tmp_path_factory.mktemp("generator") / "names"
    config = tiny_generate_config(*name_files, condition_column="language")
    train_generator(config, out, progress=False)
    export_onnx(out)
    return out
