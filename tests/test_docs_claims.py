"""What the docs and help texts claim agrees with the code and BENCHMARKS.md: the CRF default,
the decoding-strategy rule stated once, speed claims quoted with their command, the reach of
``format=``, and a cost beside every README training command."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from rnnkit.cli import app
from rnnkit.tasks.classification import ClassifyConfig
from rnnkit.tasks.tagging_train import JointTaskConfig, TagConfig

ROOT = Path(__file__).resolve().parents[1]
DOCS = [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]
runner = CliRunner()


def read(name: str) -> str:
    return (ROOT / name).read_text(encoding="utf-8")


def help_text(*command: str) -> str:
    result = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    return " ".join(result.stdout.split())


def test_the_crf_default_is_stated_as_the_code_has_it():
    assert TagConfig().model.use_crf and JointTaskConfig().model.use_crf
    assert "**CRF**, **on by default** (`model.use_crf=true`" in " ".join(
        read("docs/tagging.md").split()
    )
    assert "The CRF and character features are on by default" in read("README.md")


def test_the_label_smoothing_default_is_stated_as_the_code_has_it():
    assert ClassifyConfig().model.label_smoothing == 0.1
    row = "| `model.label_smoothing` | 0.1: label-smoothed cross-entropy"
    assert row in read("docs/training.md")
    assert "label-smoothed cross-entropy (ε 0.1)" in " ".join(read("README.md").split())


def test_the_decoding_strategy_rule_is_stated_once():
    rule = "options of two strategies together are an error"
    found = [p.name for p in DOCS if rule in " ".join(p.read_text(encoding="utf-8").split())]
    assert found == ["generation.md"]
    assert not any("two of them together are an error" in p.read_text() for p in DOCS)


def test_the_serve_speed_claim_is_quoted_from_benchmarks_with_its_command():
    text = help_text("serve")
    assert "3x faster" not in text
    assert "0.49x" in text and "python benchmarks/serve.py" in text
    # BENCHMARKS.md's single-sentence latency row at 1 thread: ONNX / torch model p50 0.491.
    assert re.search(r"\| idle \| 1 \|[^\n]*\*\*0\.491\*\*", read("BENCHMARKS.md"))


def test_format_is_documented_as_python_only():
    assert "the command line always guesses" in " ".join(read("docs/data.md").split())
    assert "--format" not in help_text("train", "classify")


def test_every_readme_training_command_says_what_it_costs():
    sections = re.split(r"\n## ", read("README.md"))
    for section in sections:
        commands = "".join(re.findall(r"```bash\n(.*?)```", section, re.S))
        if "rnnkit train " in commands:
            title = section.splitlines()[0]
            assert re.search(r"Cost|minutes|\d+ s\b", section), title
