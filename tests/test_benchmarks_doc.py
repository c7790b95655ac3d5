"""Every table in BENCHMARKS.md has its record: its section names a kept results file.

A ``## `` section (with its ``### `` subsections) that holds a table must name at least one
``benchmarks/results/<name>.json`` (a ``*`` pattern counts when it matches a file), and every
results file it names must exist in the repository.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS_FILE = re.compile(r"(?:benchmarks/)?results/([\w.*+-]+\.json)")


def unrecorded_sections(markdown: str, results: Path) -> list[str]:
    """The problems found: a section with a table and no results file, or a named file that
    is not in ``results``; each as ``'<heading>: <what is wrong>'``."""
    problems = []
    for section in re.split(r"^(?=## )", markdown, flags=re.MULTILINE):
        heading = section.splitlines()[0] if section.strip() else ""
        names = sorted(set(RESULTS_FILE.findall(section)))
        has_table = any(line.startswith("|") for line in section.splitlines())
        if has_table and not names:
            problems.append(f"{heading}: a table but no benchmarks/results/*.json named")
        problems += [
            f"{heading}: names {name}, which is not in benchmarks/results/"
            for name in names
            if not list(results.glob(name))
        ]
    return problems


def test_every_section_with_a_table_names_a_kept_results_file():
    markdown = (ROOT / "BENCHMARKS.md").read_text(encoding="utf-8")
    assert unrecorded_sections(markdown, ROOT / "benchmarks" / "results") == []


def test_a_section_without_a_record_is_reported(tmp_path):
    (tmp_path / "kept.json").write_text("{}")
    markdown = (
        "# Benchmarks\n\n## Kept\n\n`benchmarks/results/kept.json`\n\n| a |\n|---|\n| 1 |\n\n"
        "### Inherits the section's file\n\n| b |\n|---|\n| 2 |\n\n"
        "## No record\n\n| c |\n|---|\n| 3 |\n\n"
        "## Lost file\n\n`benchmarks/results/gone.json`\n\n| d |\n|---|\n| 4 |\n"
    )
    assert unrecorded_sections(markdown, tmp_path) == [
        "## No record: a table but no benchmarks/results/*.json named",
        "## Lost file: names gone.json, which is not in benchmarks/results/",
    ]
