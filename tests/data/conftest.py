"""Fixtures of the data tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def hf_offline(monkeypatch):
    """Hugging Face `datasets` with the network off: no code path of a test using this may
    reach it (a Hub id is then read from the local cache only)."""
    datasets = pytest.importorskip("datasets")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(datasets.config, "HF_DATASETS_OFFLINE", True)
