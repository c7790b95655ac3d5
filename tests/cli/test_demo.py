"""`rnnkit demo`: what it prints after training on the shipped bilingual intents."""

from __future__ import annotations

import re

from typer.testing import CliRunner

import rnnkit
from rnnkit.cli import app
from rnnkit.tasks.demo import DEMO_QUESTIONS

runner = CliRunner()


def test_demo_answers_both_questions_ask_time(tmp_path):
    result = runner.invoke(app, ["demo", "--out", str(tmp_path / "demo"), "--no-progress"])
    assert result.exit_code == 0, result.output
    accuracy = re.search(r"^dev accuracy (\d\.\d{3}) \(epoch \d+\); model in ", result.output, re.M)
    assert accuracy is not None, result.output
    assert float(accuracy.group(1)) > 0.8, result.output
    for question in DEMO_QUESTIONS:
        answer = re.search(rf"^'{re.escape(question)}' → (\w+) (\d\.\d{{3}})", result.output, re.M)
        assert answer is not None, result.output
        assert answer.group(1) == "ask_time", result.output
    assert result.output.count("reading one token at a time") == 2  # one trace per question
    # what it printed is what the kept model predicts
    kept = rnnkit.load(tmp_path / "demo").predict(list(DEMO_QUESTIONS))
    assert [p.label for p in kept] == ["ask_time", "ask_time"]
