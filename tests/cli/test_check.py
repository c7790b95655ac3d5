"""`rnnkit --version` and `rnnkit check`."""

from __future__ import annotations

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
    for layer in ("rnn", "lstm", "gru"):
        assert layer in result.output
