"""The exception hierarchy: every error rnnkit raises on purpose derives from `RnnkitError`.

The CLI turns an `RnnkitError` into one readable line and a non-zero exit, without a traceback.
"""

from __future__ import annotations

from pathlib import Path


class RnnkitError(Exception):
    """Base class of every error rnnkit raises for bad input or configuration."""


class ConfigError(RnnkitError, ValueError):
    """An argument, option or configuration value is invalid.

    Also a `ValueError`, so code that catches the standard exception keeps working.
    """


class ShapeError(RnnkitError, ValueError):
    """A tensor has the wrong shape, dtype or size for the module it is given to."""


class DataError(RnnkitError, ValueError):
    """A data file is malformed. Names the file and the line (and column when known)."""

    def __init__(
        self,
        message: str,
        path: str | Path | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        self.path = str(path) if path is not None else None
        self.line = line
        self.column = column
        where = self.path or ""
        if line is not None:
            where += f":{line}"
            if column is not None:
                where += f":{column}"
        super().__init__(f"{where}: {message}" if where else message)
        self.reason = message


class ModelDirectoryError(RnnkitError):
    """A model directory is missing, incomplete, or holds another task's model."""


class TrainingError(RnnkitError, RuntimeError):
    """Training cannot go on: e.g. too many non-finite (NaN/inf) steps in a row.

    Also a `RuntimeError`, the standard exception for a failure found while running.
    """


class ExportError(RnnkitError):
    """A model cannot be exported, or its export does not reproduce it."""


class InputTooLongError(DataError):
    """An input has more tokens than the configured ``max_tokens`` and is refused, not
    truncated (``over_length="error"``)."""
