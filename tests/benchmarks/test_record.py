"""benchmarks/record.py: result files merge rows by key and never lose one to a concurrent run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.append(str(BENCHMARKS))  # after site-packages: shadows nothing

from record import merge_rows, read_rows, write_json  # noqa: E402

WRITER = """
import sys
sys.path.insert(0, {benchmarks!r})
from pathlib import Path
from record import write_json
for i in range({rows}):
    row = {{"writer": {writer}, "i": i}}
    write_json("shared", {{"writer": {writer}, "rows": [row]}}, key=("writer", "i"),
               results=Path({results!r}))
"""


def test_a_rerun_replaces_its_row_in_place_and_keeps_the_others(tmp_path):
    write_json("t", {"rows": [{"name": "a", "bleu": 1}, {"name": "b", "bleu": 2}]}, key=("name",),
               results=tmp_path)  # fmt: skip
    path = write_json("t", {"torch": "x", "rows": [{"name": "a", "bleu": 3}, {"name": "c"}]},
                      key=("name",), results=tmp_path)  # fmt: skip
    recorded = json.loads(path.read_text())
    assert recorded["torch"] == "x"
    assert recorded["rows"] == [{"name": "a", "bleu": 3}, {"name": "b", "bleu": 2}, {"name": "c"}]
    assert read_rows("t", results=tmp_path) == recorded["rows"]
    assert read_rows("absent", results=tmp_path) == []


def test_without_a_key_the_file_is_one_runs_report(tmp_path):
    write_json("r", {"rows": [{"n": 1}]}, results=tmp_path)
    write_json("r", {"rows": [{"n": 2}]}, results=tmp_path)
    assert read_rows("r", results=tmp_path) == [{"n": 2}]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".r.json.lock", "r.json"]


def test_merge_rows_keys_on_every_named_field():
    old = [{"dataset": "sst2", "cell": "gru", "acc": 1}, {"dataset": "sst2", "cell": "lstm"}]
    new = [{"dataset": "sst2", "cell": "gru", "acc": 2}, {"dataset": "mr", "cell": "gru"}]
    assert merge_rows(old, new, ("dataset", "cell")) == [new[0], old[1], new[1]]


def test_two_concurrent_writers_lose_no_row(tmp_path):
    rows = 40
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER.format(
            benchmarks=str(BENCHMARKS), rows=rows, writer=writer, results=str(tmp_path))])
        for writer in (0, 1)
    ]  # fmt: skip
    assert [process.wait(timeout=120) for process in writers] == [0, 0]
    found = {(row["writer"], row["i"]) for row in read_rows("shared", results=tmp_path)}
    assert found == {(writer, i) for writer in (0, 1) for i in range(rows)}
