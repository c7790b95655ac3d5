"""Writing ``benchmarks/results/<name>.json`` so that no run loses another run's rows.

A benchmark that runs for an hour must not overwrite the rows a run beside it wrote meanwhile
(a read at the start and a write at the end would). :func:`write_json` therefore holds an
exclusive ``fcntl.flock`` on a sidecar lock file ``.<name>.json.lock`` while it re-reads the
file, merges the new rows into it, and replaces it atomically (temporary file + ``os.replace``),
so a reader never sees a half-written file either.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def add_results_dir(parser: argparse.ArgumentParser) -> None:
    """Adds ``--results-dir``, the folder of a benchmark's JSON record and of the model
    directories it trains (default ``benchmarks/results``): a trial run points it elsewhere."""
    parser.add_argument(
        "--results-dir", type=Path, default=RESULTS,
        help="folder of the JSON record and the trained runs (default benchmarks/results)",
    )  # fmt: skip


def row_key(row: dict[str, Any], key: Sequence[str]) -> tuple:
    """The values of ``key``'s fields in ``row`` (a missing field reads as None)."""
    return tuple(row.get(field) for field in key)


def merge_rows(
    old: list[dict[str, Any]], new: list[dict[str, Any]], key: Sequence[str]
) -> list[dict[str, Any]]:
    """``old`` with each row replaced, in place, by the new row of the same key; new rows with
    other keys are appended in their order."""
    fresh = {row_key(row, key): row for row in new}
    merged = [fresh.pop(row_key(row, key), row) for row in old]
    return merged + [row for row in new if row_key(row, key) in fresh]


def write_json(
    name: str, payload: dict[str, Any], key: Sequence[str] = (), results: Path = RESULTS
) -> Path:
    """Writes ``payload`` to ``results/<name>.json`` and returns the path.

    With ``key`` (the fields that name a row, e.g. ``("dataset", "cell")``), ``payload["rows"]``
    is merged into the rows already in the file (see :func:`merge_rows`); the other top-level
    fields are the payload's. Without ``key`` the file is replaced: a report of one run.
    """
    results.mkdir(parents=True, exist_ok=True)
    path = results / f"{name}.json"
    with open(results / f".{name}.json.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if key and path.is_file():
            old_rows = json.loads(path.read_text(encoding="utf-8")).get("rows", [])
            payload = {**payload, "rows": merge_rows(old_rows, payload.get("rows", []), key)}
        temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        temporary.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
        os.replace(temporary, path)
    return path


def read_rows(name: str, results: Path = RESULTS) -> list[dict[str, Any]]:
    """The rows recorded in ``results/<name>.json`` (none when the file is absent)."""
    path = results / f"{name}.json"
    return json.loads(path.read_text(encoding="utf-8")).get("rows", []) if path.is_file() else []
