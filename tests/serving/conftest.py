"""Tiny models for the service tests: the exported classifier of tests/export, exported copies
of the task tests' tagger, joint model and translator, and two language models (the conditioned
one exported)."""

import shutil
from pathlib import Path

import pytest

from rnnkit.export import export_onnx
from rnnkit.tasks.generation import train_generator
from tests.export.conftest import exported_dir  # noqa: F401  (a fixture)
from tests.tasks.conftest import (  # noqa: F401  (fixtures)
    conll_files,
    joint_dir,
    slot_folders,
    tagger_dir,
    translation_files,
    translator_dir,
)
from tests.tasks.test_generation import tiny_config, write_names


@pytest.fixture(scope="session")
def exported_joint_dir(request, tmp_path_factory) -> Path:
    """A copy of the task tests' joint intent + slot model, exported to ONNX."""
    return exported_copy(request.getfixturevalue("joint_dir"), tmp_path_factory)


@pytest.fixture(scope="session")
def exported_tagger_dir(request, tmp_path_factory) -> Path:
    """A copy of the task tests' tagger, exported to ONNX."""
    return exported_copy(request.getfixturevalue("tagger_dir"), tmp_path_factory)


@pytest.fixture(scope="session")
def exported_translator_dir(request, tmp_path_factory) -> Path:
    """A copy of the task tests' toy English → "French" translator, exported to ONNX."""
    return exported_copy(request.getfixturevalue("translator_dir"), tmp_path_factory)


def exported_copy(directory: Path, tmp_path_factory) -> Path:
    copy = shutil.copytree(directory, tmp_path_factory.mktemp("served") / directory.name)
    export_onnx(copy)
    return copy


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
    train_generator(tiny_config(*name_files, condition_column="language"), out, progress=False)
    export_onnx(out)
    return out


@pytest.fixture(scope="session")
def plain_lm_dir(tmp_path_factory, name_files) -> Path:
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
