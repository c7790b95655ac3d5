"""Every Markdown page under docs/ is reachable from the site's navigation (mkdocs.yml's nav),
and every nav entry names a page that exists."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
# Pages that docs/hooks.py adds from outside docs/ (README.md, BENCHMARKS.md, the notebook).
GENERATED = {"index.md", "benchmarks.md", "examples/rnn-tutorial.ipynb"}


def nav_pages(entry: Any) -> Iterator[str]:
    """The page paths of a (nested) mkdocs nav: lists of pages, ``{title: page}``, sections."""
    if isinstance(entry, str):
        yield entry
    elif isinstance(entry, list):
        for item in entry:
            yield from nav_pages(item)
    elif isinstance(entry, dict):
        for value in entry.values():
            yield from nav_pages(value)


def test_every_docs_page_is_in_the_nav_and_every_nav_page_exists():
    nav = set(nav_pages(yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))["nav"]))
    pages = {path.relative_to(DOCS).as_posix() for path in DOCS.rglob("*.md")}
    assert sorted(pages - nav) == [], "pages under docs/ missing from mkdocs.yml's nav"
    assert sorted(nav - pages - GENERATED) == [], "nav entries with no page"
