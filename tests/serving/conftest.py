"""Exported tiny models for the service tests: the classifier of tests/export, and copies
of the task tests' tagger and joint model."""

import shutil
from pathlib import Path

import pytest

from rnnkit.export import export_onnx
from tests.export.conftest import exported_dir  # noqa: F401  (a fixture)
from tests.tasks.conftest import conll_files, joint_dir, slot_folders, tagger_dir  # noqa: F401


@pytest.fixture(scope="session")
def exported_joint_dir(request, tmp_path_factory) -> Path:
    """A copy of the task tests' joint intent + slot model, exported to ONNX."""
    return exported_copy(request.getfixturevalue("joint_dir"), tmp_path_factory)


@pytest.fixture(scope="session")
def exported_tagger_dir(request, tmp_path_factory) -> Path:
    """A copy of the task tests' tagger, exported to ONNX."""
    return exported_copy(request.getfixturevalue("tagger_dir"), tmp_path_factory)


def exported_copy(directory: Path, tmp_path_factory) -> Path:
    copy = shutil.copytree(directory, tmp_path_factory.mktemp("served") / directory.name)
    export_onnx(copy)
    return copy
