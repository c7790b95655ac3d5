"""A tiny trained Bi-LSTM intent classifier with attention pooling, exported to ONNX."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from rnnkit.export import export_onnx
from rnnkit.tasks.classification import train_classifier
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
from tests.tasks.conftest import (  # noqa: E402, F401  # noqa: E402, F401
    conll_files,
    joint_dir,
    slot_folders,
    tagger_dir,
    translation_files,
    translator_dir,
)
from tests.tasks.test_generation import tiny_config as tiny_generate_config  # noqa: E402
from tests.tasks.test_generation import write_names  # noqa: E402


@pytest.fixture(scope="session")
def exported_translator(tmp_path_factory, translator_dir) -> Path:  # noqa: F811
    """The task tests' tiny translator, copied and exported."""
    import shutil

    out = shutil.copytree(translator_dir, tmp_path_factory.mktemp("exported") / "translator")
    export_onnx(out)
    return out


@pytest.fixture(scope="session")
def exported_generator(tmp_path_factory) -> Path:
    """A tiny name generator conditioned on a language (category), exported."""
    from rnnkit.tasks.generation import train_generator

    folder = tmp_path_factory.mktemp("exported")
    train, dev = write_names(folder / "train.tsv", 6, 0), write_names(folder / "dev.tsv", 1, 1)
    config = tiny_generate_config(train, dev, epochs=6, condition_column="language")
    model = dataclasses.replace(config.model, cell="lstm")
    out = folder / "names"
    train_generator(dataclasses.replace(config, model=model), out, progress=False)
    export_onnx(out)
    return out
