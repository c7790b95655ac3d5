"""Entity-level tagging metrics (seqeval, conlleval semantics)."""

from __future__ import annotations

import pytest

from rnnkit.errors import ConfigError
from rnnkit.metrics import tagging_report


def test_entity_level_micro_scores_and_per_type():
    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["O", "B-ORG"]]
    predicted = [["B-PER", "O", "O", "B-LOC"], ["O", "B-ORG"]]  # PER cut short: wrong entity
    report = tagging_report(gold, predicted)
    assert report["precision"] == pytest.approx(2 / 3) and report["recall"] == pytest.approx(2 / 3)
    assert report["f1"] == pytest.approx(2 / 3) and report["n"] == 2
    assert report["per_type"]["PER"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert report["per_type"]["LOC"]["f1"] == 1.0


def test_type_never_predicted_scores_zero_without_warning(recwarn):
    report = tagging_report([["B-X"]], [["O"]])
    assert report["f1"] == 0.0 and report["per_type"]["X"]["recall"] == 0.0
    assert not recwarn.list


def test_mismatched_lengths_are_errors():
    with pytest.raises(ConfigError, match=r"predicted: expected 2 sentences"):
        tagging_report([["O"], ["O"]], [["O"]])
    with pytest.raises(ConfigError, match=r"predicted\[0\]: expected 2 tags"):
        tagging_report([["O", "O"]], [["O"]])
