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
    # huggingface_hub reads HF_HUB_OFFLINE once, at import: without this its downloads still
    # try the network, and wait out their timeouts where it is unreachable.
    hub = pytest.importorskip("huggingface_hub")
    monkeypatch.setattr(hub.constants, "HF_HUB_OFFLINE", True)
