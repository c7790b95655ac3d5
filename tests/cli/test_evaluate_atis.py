"""``rnnkit evaluate`` on the real ATIS valid split, which holds an intent (line 418) and a slot
tag (line 17) that never occur in train: it runs without flags and counts them as errors."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from rnnkit.cli import app
from tests.cli.unseen import WIDE, evaluate_json, one_warning

runner = CliRunner()
# One epoch of a tiny model: the test is about the unseen labels, not the scores.
TINY = ["--hidden-size", "8", "--embedding-dim", "8", "--epochs", "1", "--batch-size", "128"]
TINY += ["--no-progress", "--set", "trainer.flow_check_every=0"]


@pytest.mark.parametrize("task", ["classify", "joint"])
def test_atis_valid_evaluates_without_flags(task, shared_data, tmp_path):
    atis, out = shared_data / "atis", tmp_path / task
    arguments = ["train", task, "--train", str(atis / "train"), "--dev", str(atis / "valid")]
    trained = runner.invoke(app, [*arguments, "--out", str(out), *TINY], env=WIDE)
    assert trained.exit_code == 0, trained.output
    assert "the dev metrics count them as errors" in one_warning("unseen", trained.stderr)
    report, warning = evaluate_json(out, atis / "valid")
    where = atis / "valid" / "seq.in"
    kind = "intent" if task == "joint" else "label"
    intent = "'atis_airfare#atis_flight_time'"
    assert warning.startswith(f"1 {kind} unseen in training (first at {where}:418: {intent})")
    assert report["n"] == 500 and report["n_unknown_label"] == 1
    if task == "joint":
        assert f"1 tag unseen in training (first at {where}:17: " in warning
        assert report["n_unknown_tag"] == 1 and report["intent_accuracy"] <= 499 / 500
    else:
        assert report["accuracy"] <= 499 / 500
