"""Help texts read as prose: the terminal wraps each paragraph at its own width, so no
docstring's hard line breaks split a sentence mid-line; every command has an example."""

from __future__ import annotations

from typer.testing import CliRunner

from rnnkit.cli.app import app, prose, registered_commands

runner = CliRunner()


def test_docstrings_become_paragraphs_of_prose():
    doc = """First line
    goes on here.

    Second paragraph,
        indented."""
    assert prose(doc) == "First line goes on here.\n\nSecond paragraph, indented."


def test_every_command_help_is_prose_with_an_example():
    commands = registered_commands(app)
    assert len(commands) >= 10  # eight verbs and the two of diagnose; train: test_registry.py
    for command in commands:
        paragraphs = command.help.split("\n\n")
        assert all("\n" not in paragraph for paragraph in paragraphs), command.name
        assert command.epilog and command.epilog.startswith("Example: "), command.name


def test_a_wide_terminal_keeps_a_sentence_on_one_line():
    result = runner.invoke(app, ["--help"], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    assert "shipped with rnnkit (under a minute on 2 CPU cores)" in result.output
