"""The ``rnnkit`` command line: thin typer commands, one module per verb.

Every command turns an `RnnkitError` (or a missing file) into one line on stderr and exit
code 1, never a traceback.
"""

from __future__ import annotations

from rnnkit.cli.app import app, main

__all__ = ["app", "main"]
