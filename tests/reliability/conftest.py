"""A tiny trained and exported model of every task, shared by the reliability tests.

The task and export tests' session fixtures are reused, so the models are trained once per
test session whichever suites run.
"""

from __future__ import annotations

from pathlib import Path

import pytest

# The trained models of the task and export tests (fixtures re-exported here).
from tests.export.conftest import (  # noqa: F401
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
from tests.tasks.conftest import intent_files  # noqa: F401

TASKS = ("classify", "tag", "joint", "translate", "generate")


@pytest.fixture(scope="session")
def exported_models(request, tmp_path_factory) -> dict[str, Path]:
    """Task name → a model directory with its ONNX export, for every task."""
    exported = {
        "classify": request.getfixturevalue("exported_dir"),
        "translate": request.getfixturevalue("exported_translator_dir"),
        "generate": request.getfixturevalue("names_dir"),
    }
    for task, fixture in (("tag", "tagger_dir"), ("joint", "joint_dir")):
        exported[task] = exported_copy(request.getfixturevalue(fixture), tmp_path_factory)
    return exported


@pytest.fixture(scope="session")
def labelled_data(request) -> dict[str, Path]:
    """Task name → a labelled file its ``rnnkit evaluate`` reads."""
    return {
        "classify": request.getfixturevalue("intent_files")[1],
        "tag": request.getfixturevalue("conll_files")[1],
        "joint": request.getfixturevalue("slot_folders")[1],
        "translate": request.getfixturevalue("translation_files")[1],
        "generate": request.getfixturevalue("name_files")[1],
    }
