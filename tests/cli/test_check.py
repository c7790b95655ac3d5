"""`rnnkit --version` and `rnnkit check`."""

from __future__ import annotations

import itertools
import re

from typer.testing import CliRunner

from rnnkit import __version__
from rnnkit.cli import app

runner = CliRunner()


def test_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert f"rnnkit {__version__}" in result.output


def test_check_runs_every_layer_on_both_backends():
    result = runner.invoke(app, ["check"])
    assert result.exit_code == 0, result.output
    assert "ok: both backends agree" in result.output
    rows = re.findall(r"^\W*(rnn|lstm|gru)\W+(False|True)\W", result.output, re.MULTILINE)
    assert sorted(rows) == sorted(itertools.product(("rnn", "lstm", "gru"), ("False", "True")))
