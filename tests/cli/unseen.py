"""Helpers for the tests of labels unseen in training: ``rnnkit evaluate`` runs and their
log lines, read out of typer's CliRunner results."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from rnnkit.cli import app

runner = CliRunner()
# Wide enough that rich never wraps a log line: a test can then ask for exactly one line.
WIDE = {"COLUMNS": "1000"}


def one_warning(text: str, stderr: str) -> str:
    """The message of the single stderr line containing ``text``, checked to be a WARNING."""
    lines = [line.rstrip() for line in stderr.splitlines() if text in line]
    assert len(lines) == 1, stderr
    level, message = lines[0].split(maxsplit=1)
    assert level == "WARNING", lines[0]
    return message


def evaluate_json(model_dir: Path, path: Path) -> tuple[dict[str, Any], str]:
    """``rnnkit evaluate DIR PATH --json`` with the default ``--unknown-labels``: the report
    and the one warning line about labels unseen in training."""
    result = runner.invoke(app, ["evaluate", str(model_dir), str(path), "--json"], env=WIDE)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout), one_warning("unseen in training", result.stderr)


def strict_error(model_dir: Path, path: Path) -> str:
    """``rnnkit evaluate DIR PATH --unknown-labels error``: checks it fails with exit code 1
    and no traceback; returns its one ``error:`` line."""
    arguments = ["evaluate", str(model_dir), str(path), "--unknown-labels", "error"]
    result = runner.invoke(app, arguments, env=WIDE)
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error")]
    assert len(errors) == 1, result.stderr
    return errors[0]
