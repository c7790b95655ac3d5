"""Every help text that shows the O1 … On walk-through says where the lesson behind it is."""

from __future__ import annotations

import typer
from typer.testing import CliRunner

from rnnkit.cli.app import app

runner = CliRunner()
TUTORIAL_PAGE = "docs/rnn-tutorial.md"


def command_paths(command, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command and subcommand of the CLI (a click command or group, as typer builds it),
    as the arguments that reach it."""
    paths = [path]
    if hasattr(command, "list_commands"):  # a group; `train` makes its commands when asked
        context = typer.Context(command)
        for name in command.list_commands(context):
            paths += command_paths(command.get_command(context, name), (*path, name))
    return paths


def test_help_texts_that_show_the_walk_through_link_the_tutorial_page():
    mentioning = []
    paths = command_paths(typer.main.get_command(app))
    for path in paths:
        result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "250"})
        assert result.exit_code == 0, (path, result.output)
        if "O1" in result.output:
            mentioning.append(path)
            assert TUTORIAL_PAGE in result.output, path
    assert ("predict",) in mentioning
    assert ("train", "classify") in paths  # every subcommand was read
