"""Shared fixtures. The real data sets live beside the repository in ``../shared/data``."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    """``<repo>/../shared/data``, or skip the test when it is absent (e.g. a bare checkout)."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data sets not found at {SHARED_DATA.resolve()}")
    return SHARED_DATA.resolve()
