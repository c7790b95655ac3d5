"""Every default discoverable: ``--list-settings``, the defaults in ``--help``, and
docs/defaults.md generated from the config dataclasses (and checked against them)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from rnnkit.cli import app
from rnnkit.cli.settings import defaults_markdown, field_comments, task_settings
from rnnkit.config import valid_keys
from rnnkit.tasks import TASKS
from rnnkit.training import TrainerConfig

runner = CliRunner()
DEFAULTS_DOC = Path(__file__).resolve().parents[2] / "docs" / "defaults.md"


def test_docs_defaults_is_up_to_date():
    assert DEFAULTS_DOC.read_text(encoding="utf-8") == defaults_markdown(), (
        "docs/defaults.md is out of date: run python -m rnnkit.cli.defaults_doc"
    )


def test_every_set_key_is_listed_with_a_comment():
    for task in TASKS:
        settings = task_settings(task)
        assert [s.key for s in settings] == valid_keys(task.config_class), task.name
        uncommented = [s.key for s in settings if not s.comment]
        assert not uncommented, f"{task.name}: fields without a comment: {uncommented}"


def test_comments_above_and_beside_a_field_are_read():
    comments = field_comments(TrainerConfig)
    assert comments["epochs"].startswith("Passes over the training data")
    assert "(Pascanu et al. 2013)" in comments["max_grad_norm"]  # the second comment line


def test_list_settings_prints_type_default_and_meaning_per_task():
    result = runner.invoke(app, ["train", "classify", "--list-settings"])
    assert result.exit_code == 0, result.output
    assert "data.tokenizer: str = auto  (--tokenizer)" in result.stdout
    assert "trainer.lr: float = 0.003  (--lr)" in result.stdout  # classify's own default
    assert "    AdamW peak learning rate" in result.stdout
    tag = runner.invoke(app, ["train", "tag", "--list-settings"]).stdout
    assert "model.use_crf: bool = true" in tag and "trainer.epochs: int = 20" in tag


def test_help_shows_each_task_default():
    result = runner.invoke(app, ["train", "classify", "--help"], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    for shown in ("[default: auto]", "[default: 64]", "[default: max]", "[default: 0.003]"):
        assert shown in result.stdout, shown
    tag = runner.invoke(app, ["train", "tag", "--help"], env={"COLUMNS": "250"}).stdout
    assert "[default: 32]" in tag and "[default: 20]" in tag
