"""The linter is pinned in the dev extra, to the version the tests and CI run, so a new ruff
release cannot change the lint result of unchanged code."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import pytest

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def test_ruff_is_pinned_to_one_version_in_the_dev_extra():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    requirements = [r for r in project["optional-dependencies"]["dev"] if r.startswith("ruff")]
    assert len(requirements) == 1, requirements
    name, pin, version = requirements[0].partition("==")
    assert (name, pin) == ("ruff", "=="), f"expected ruff==VERSION, got {requirements[0]!r}"
    try:
        installed = importlib.metadata.version("ruff")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("ruff is not installed (pip install -e '.[dev]')")
    assert installed == version, f"ruff {installed} installed, pyproject.toml pins {version}"
