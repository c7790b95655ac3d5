"""Processes that start one SQLite study together queue the base recipe once."""

from __future__ import annotations

import fcntl

import pytest

from rnnkit.tuning.study import starting


def test_starting_an_sqlite_study_holds_a_lock_beside_its_file(tmp_path):
    database = tmp_path / "study.db"
    with (
        starting(f"sqlite:///{database}"),
        open(f"{database}.lock") as other,
        pytest.raises(BlockingIOError),  # another process's start waits here
    ):
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
    with open(f"{database}.lock") as other:
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)  # released once started


def test_a_database_server_gets_no_lock_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with starting("postgresql://tuner@db.example/studies"):
        pass
    assert list(tmp_path.iterdir()) == []
