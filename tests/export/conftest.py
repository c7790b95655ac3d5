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
from tests.tasks.conftest import conll_files, joint_dir, slot_folders, tagger_dir  # noqa: E402, F401
