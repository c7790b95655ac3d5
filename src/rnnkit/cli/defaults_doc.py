"""``python -m rnnkit.cli.defaults_doc [PATH]``: writes docs/defaults.md (or PATH), the table
of every task's settings and defaults (`rnnkit.cli.settings.defaults_markdown`)."""

from __future__ import annotations

import sys
from pathlib import Path

from rnnkit.cli.settings import defaults_markdown

DEFAULTS_DOC = Path("docs") / "defaults.md"


def main(arguments: list[str]) -> None:
    path = Path(arguments[0]) if arguments else DEFAULTS_DOC
    path.write_text(defaults_markdown(), encoding="utf-8")
    print(f"wrote {path}")


if __name__ == "__main__":
    main(sys.argv[1:])
