"""``python -m rnnkit.cli.defaults_doc``: --help prints help and writes nothing, PATH defaults
to docs/defaults.md, and --check exits 1 on a missing or stale file without writing."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from rnnkit.cli.defaults_doc import app
from rnnkit.cli.settings import defaults_markdown

runner = CliRunner()


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_help_prints_the_options_and_writes_nothing(folder):
    process = subprocess.run(
        [sys.executable, "-m", "rnnkit.cli.defaults_doc", "--help"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert process.returncode == 0, process.stderr
    assert "defaults_doc [OPTIONS] [PATH]" in process.stdout and "--check" in process.stdout
    assert list(folder.iterdir()) == []


def test_writes_docs_defaults_md_by_default(folder):
    (folder / "docs").mkdir()
    result = runner.invoke(app, [])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "wrote docs/defaults.md"
    assert (folder / "docs" / "defaults.md").read_text(encoding="utf-8") == defaults_markdown()


def test_a_missing_folder_is_a_one_line_error(folder):
    result = runner.invoke(app, [])
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: cannot write docs/defaults.md: No such file or directory"
    )


def test_writes_the_given_path(folder):
    result = runner.invoke(app, ["table.md"])
    assert result.exit_code == 0, result.output
    assert (folder / "table.md").read_text(encoding="utf-8") == defaults_markdown()
    assert not (folder / "docs").exists()


def test_check_passes_on_an_up_to_date_file(folder):
    (folder / "table.md").write_text(defaults_markdown(), encoding="utf-8")
    result = runner.invoke(app, ["table.md", "--check"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "table.md is up to date"


@pytest.mark.parametrize("stale", ["# old table\n", None])
def test_check_fails_on_a_stale_or_missing_file_and_writes_nothing(folder, stale):
    path = folder / "table.md"
    if stale is not None:
        path.write_text(stale, encoding="utf-8")
    result = runner.invoke(app, ["table.md", "--check"])
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: table.md is out of date: run python -m rnnkit.cli.defaults_doc table.md"
    )
    if stale is None:
        assert not path.exists()
    else:
        assert path.read_text(encoding="utf-8") == stale


def test_an_unknown_option_is_a_usage_error_that_writes_nothing(folder):
    result = runner.invoke(app, ["--bogus"])
    assert result.exit_code == 2
    assert "No such option: --bogus" in result.stderr
    assert list(folder.iterdir()) == []
