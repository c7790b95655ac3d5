"""The project speaks to its users: no issue numbers, no talk of the people or processes that
built it, no files outside the repository, and "the tutorial" always with its link."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TEXT_SUFFIXES = {".py", ".md", ".html", ".toml", ".yml", ".yaml", ".txt", ".cfg"}
SCANNED = ["README.md", "BENCHMARKS.md", "pyproject.toml", "docs", "src", "benchmarks", "examples"]
SKIPPED = {"results"}  # benchmarks/results: measured records, not prose
# Each pattern names something a user cannot look up.
FORBIDDEN = {
    "an issue number": re.compile(r"\bissues? #?\d+", re.IGNORECASE),
    "a notes file outside the repository": re.compile(r"PERF-NOTES"),
    "agents": re.compile(r"\bagents?\b", re.IGNORECASE),
    "a working session": re.compile(
        r"\b(this|another|earlier|previous|later|other|each|a) sessions?\b(?! (object|run))",
        re.IGNORECASE,
    ),
    "a path outside the repository": re.compile(r"shared/seed|/work/"),
}
# ../shared/data, the benchmarks' data sets, appears only where benchmarks are described.
SHARED_DATA = re.compile(r"\.\./shared/data")
SHARED_DATA_ALLOWED = ("BENCHMARKS.md", "benchmarks/")
TUTORIAL = re.compile(r"\bthe (rnn )?tutorial\b|\btutorial's\b", re.IGNORECASE)
TUTORIAL_LINK = "rnn-tutorial.md"


def scanned_files() -> list[Path]:
    files = []
    for name in SCANNED:
        path = ROOT / name
        if path.is_file():
            files.append(path)
        elif path.is_dir():
            files += [
                p for p in sorted(path.rglob("*"))
                if p.is_file() and p.suffix in TEXT_SUFFIXES and not SKIPPED & set(p.parts)
                and "__pycache__" not in p.parts
            ]  # fmt: skip
    return files


def paragraphs(text: str) -> list[tuple[int, str]]:
    """(first line number, text) of each run of non-blank lines."""
    found, start, lines = [], 1, []
    for number, line in enumerate([*text.splitlines(), ""], start=1):
        if line.strip():
            if not lines:
                start = number
            lines.append(line)
        elif lines:
            found.append((start, "\n".join(lines)))
            lines = []
    return found


def test_the_scan_covers_the_docs_and_the_code():
    names = {p.relative_to(ROOT).as_posix() for p in scanned_files()}
    assert {"README.md", "docs/data.md", "src/rnnkit/cli/serve.py"} <= names


@pytest.mark.parametrize("what", sorted(FORBIDDEN))
def test_no_internal_reference(what):
    pattern = FORBIDDEN[what]
    hits = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in scanned_files()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if pattern.search(line)
    ]
    assert not hits, f"{what}:\n" + "\n".join(hits)


def test_shared_data_only_in_benchmarks():
    hits = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in scanned_files()
        if not path.relative_to(ROOT).as_posix().startswith(SHARED_DATA_ALLOWED)
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if SHARED_DATA.search(line)
    ]
    assert not hits, "../shared/data outside the benchmarks: " + ", ".join(hits)


def test_the_tutorial_is_always_linked():
    hits = [
        f"{path.relative_to(ROOT)}:{start}: {paragraph.strip()[:80]}"
        for path in scanned_files()
        if path.name != TUTORIAL_LINK  # the page itself speaks of the tutorial it retells
        for start, paragraph in paragraphs(path.read_text(encoding="utf-8"))
        if TUTORIAL.search(paragraph) and TUTORIAL_LINK not in paragraph
    ]
    assert not hits, "'the tutorial' without a link to docs/rnn-tutorial.md:\n" + "\n".join(hits)
