"""Every help text that shows the O1 … On walk-through says where the lesson behind it is."""

from __future__ import annotations

import click
import typer
from typer.testing import CliRunner

from rnnkit.cli.app import app

runner = CliRunner()
TUTORIAL_PAGE = "docs/rnn-tutorial.md"


def command_paths(command: click.Command, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command and subcommand of the CLI, as the arguments that reach it."""
    paths = [path]
    if isinstance(command, click.Group):
        for name, subcommand in command.commands.items():
            paths += command_paths(subcommand, (*path, name))
    return paths


def test_help_texts_that_show_the_walk_through_link_the_tutorial_page():
    mentioning = []
    for path in command_paths(typer.main.get_command(app)):
        result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "250"})
        assert result.exit_code == 0, (path, result.output)
        if "O1" in result.output:
            mentioning.append(path)
            assert TUTORIAL_PAGE in result.output, path
    assert ("predict",) in mentioning
