"""Tiny models for the service tests: the exported classifier of tests/export, exported copies
of the task tests' tagger, joint model and translator, and two language models (the conditioned
one exported)."""

from pathlib import Path

import pytest

from rnnkit.tasks.generation import train_generator
from tests.export.conftest import (  # noqa: F401  (fixtures, some of tests/tasks)
    conll_files,
    exported_copy,
    exported_dir,
    exported_translator_dir,
    joint_dir,
    name_files,
    names_dir,
    slot_folders,
    tagger_dir,
    translation_files,
    translator_dir,
)
from tests.tasks.test_generation import tiny_config


@pytest.fixture(scope="session")
def exported_joint_dir(request, tmp_path_factory) -> Path:
    """A copy of the task tests' joint intent + slot model, exported to ONNX."""
    return exported_copy(request.getfixturevalue("joint_dir"), tmp_path_factory)


@pytest.fixture(scope="session")
def exported_tagger_dir(request, tmp_path_factory) -> Path:
    """A copy of the task tests' tagger, exported to ONNX."""
    return exported_copy(request.getfixturevalue("tagger_dir"), tmp_path_factory)


@pytest.fixture(scope="session")
def plain_lm_dir(tmp_path_factory, name_files) -> Path:  # noqa: F811
    """The same names as plain text, one per line: an unconditioned model."""
    folder = tmp_path_factory.mktemp("plain-names")
    plain = []
    for path in name_files:
        lines = path.read_text().splitlines()[1:]  # without the header
        plain.append(folder / path.name)
        plain[-1].write_text("".join(line.split("\t")[0] + "\n" for line in lines))
    out = folder / "plain"
    train_generator(tiny_config(*plain, epochs=4), out, progress=False)
    return out
