"""Reading text files line by line with exact error locations, and the record of what was skipped.

Every reader goes through `iter_lines`, which decodes UTF-8 (a leading byte-order mark is
tolerated) one line at a time, so invalid bytes are reported with their line and byte column,
and through a `ReadReport`, which either raises each `DataError` (``on_error="raise"``, the
default) or counts it and keeps the first few locations (``on_error="skip"``). Bytes that are
not UTF-8 text are such an error unless the report's ``encoding_errors="replace"`` reads them
as U+FFFD (an explicit opt-in).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import zip_longest
from pathlib import Path
from typing import BinaryIO

from rnnkit.errors import ConfigError, DataError

ON_ERROR = ("raise", "skip")
ENCODING_ERRORS = ("strict", "replace")  # bytes that are not UTF-8 text: refuse, or read as U+FFFD
_BOM = b"\xef\xbb\xbf"
# How many skipped locations a report keeps in full (the count is always exact).
KEPT_ERRORS = 5


@dataclass
class ReadReport:
    """What one read produced: examples kept, rows skipped and where, blank lines passed.

    Args:
        source: the file, folder or data set read (for messages).
        on_error: ``"raise"`` raises the first `DataError`; ``"skip"`` skips the row and counts it.
        encoding_errors: ``"strict"`` makes a line that is not UTF-8 text such an error;
            ``"replace"`` reads its bad bytes (and NUL) as U+FFFD.
    """

    source: str
    on_error: str = "raise"
    encoding_errors: str = "strict"  # bytes that are not UTF-8 text: an error, or U+FFFD
    examples: int = 0
    skipped: int = 0
    blank_lines: int = 0  # blank lines are separators, not rows; counted so nothing vanishes
    errors: list[DataError] = field(default_factory=list)  # the first KEPT_ERRORS skipped

    def __post_init__(self) -> None:
        check_on_error(self.on_error)
        check_encoding_errors(self.encoding_errors)

    def record(self, error: DataError) -> None:
        """Raises `error` under ``on_error="raise"``; else counts it and keeps the first few."""
        if self.on_error == "raise":
            raise error
        self.skipped += 1
        if len(self.errors) < KEPT_ERRORS:
            self.errors.append(error)

    def summary(self) -> str:
        """One line for logs: ``"train.tsv: 67348 examples, 2 skipped (train.tsv:5: ...; ...)"``."""
        text = f"{self.source}: {self.examples} examples, {self.skipped} skipped"
        if self.errors:
            more = ", ..." if self.skipped > len(self.errors) else ""
            text += " (" + "; ".join(str(e) for e in self.errors) + more + ")"
        return text


def check_on_error(on_error: str) -> None:
    """Raises `ConfigError` unless `on_error` is ``"raise"`` or ``"skip"``."""
    if on_error not in ON_ERROR:
        raise ConfigError(f"on_error must be one of {list(ON_ERROR)}, got {on_error!r}")


def check_encoding_errors(errors: str) -> None:
    """Raises `ConfigError` unless `errors` is ``"strict"`` or ``"replace"``."""
    if errors not in ENCODING_ERRORS:
        raise ConfigError(
            f"encoding errors: expected one of {list(ENCODING_ERRORS)}, got {errors!r}"
        )


def check_file(path: str | Path) -> Path:
    """Returns `path` as a `Path`, raising `DataError` when it is not an existing file."""
    path = Path(path)
    if not path.is_file():
        what = "a folder" if path.is_dir() else "missing"
        raise DataError(f"expected a data file, found {what}", path)
    return path


def iter_lines(
    path: str | Path, report: ReadReport, keep_ends: bool = False, bad_as_none: bool = False
) -> Iterator[tuple[int, str | None]]:
    """Yields ``(line_number, text)`` for each line of a UTF-8 file, 1-based.

    A byte-order mark at the start is dropped. A line that is not valid UTF-8 text (see
    `decode_line`) becomes a `DataError` naming its line and the byte column of the first bad
    byte (raised, or skipped and counted, as `report` says), unless the report's
    ``encoding_errors="replace"`` reads the bad bytes as U+FFFD.

    Args:
        keep_ends: keep the line end (for the `csv` module, which needs it inside quotes);
            otherwise ``\\n`` and ``\\r\\n`` are removed.
        bad_as_none: yield ``(number, None)`` for a skipped line instead of nothing, so that
            line-aligned files stay aligned.
    """
    path = check_file(path)
    done = 0
    try:  # fast path: text mode decodes in large chunks
        with path.open(encoding="utf-8-sig", newline="\n") as handle:  # split on \n only
            for number, text in enumerate(handle, start=1):
                if "\x00" in text:
                    break  # the slow path reports it
                done = number
                yield done, text if keep_ends else text.rstrip("\r\n")
            else:
                return
    except UnicodeDecodeError:
        pass  # a chunk failed: go on line by line from the first line not yet yielded
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if number <= done:
                continue
            try:
                text = decode_line(raw, path, number, report.encoding_errors)
            except DataError as error:
                report.record(error)
                if bad_as_none:
                    yield number, None
                continue
            yield number, text if keep_ends else text.rstrip("\r\n")


def decode_line(raw: bytes, source: str | Path, number: int, errors: str = "strict") -> str:
    """Line ``number`` of ``source`` (its bytes ``raw``) as text; a leading BOM on line 1 is
    dropped.

    ``errors="strict"`` raises a `DataError` naming the source, line and byte column of the
    first byte that is not UTF-8, or of a NUL byte (binary data, never text in a data file);
    ``errors="replace"`` reads such bytes as U+FFFD instead.
    """
    check_encoding_errors(errors)
    if number == 1 and raw.startswith(_BOM):
        raw = raw[len(_BOM) :]
    if errors == "replace":
        return raw.decode("utf-8", "replace").replace("\x00", "\ufffd")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        message = f"invalid UTF-8 byte 0x{raw[exc.start]:02x} (expected UTF-8 text)"
        raise DataError(message, source, number, exc.start + 1) from None
    if "\x00" in text:
        raise DataError("NUL byte 0x00 (binary data, not text)", source, number, raw.find(0) + 1)
    return text


def read_stream_lines(handle: BinaryIO, source: str, errors: str = "strict") -> list[str]:
    """The non-blank lines of a byte stream (e.g. stdin), decoded by `decode_line` and
    without their ``\\n`` or ``\\r\\n``."""
    lines = (decode_line(raw, source, n, errors) for n, raw in enumerate(handle, start=1))
    return [text.rstrip("\r\n") for text in lines if text.strip()]


def iter_aligned(
    paths: Sequence[Path], report: ReadReport
) -> Iterator[tuple[int, list[str] | None]]:
    """Yields ``(line_number, [line of each file])`` for line-aligned files.

    The list is None where a line of any file was invalid UTF-8 (already recorded). Unequal line
    counts always raise a `DataError` naming the longer file and its first line without a partner,
    whatever ``on_error`` says: the alignment can no longer be trusted.
    """
    streams = [iter_lines(path, report, bad_as_none=True) for path in paths]
    for rows in zip_longest(*streams):
        if None in rows:
            longer = next(i for i, row in enumerate(rows) if row is not None)
            shorter = next(i for i, row in enumerate(rows) if row is None)
            number = rows[longer][0]
            raise DataError(
                f"{paths[shorter].name} ends at line {number - 1} but {paths[longer].name} "
                f"continues (line-aligned files must have equal line counts)",
                paths[longer],
                number,
            )
        texts = [text for _, text in rows]
        yield rows[0][0], (None if None in texts else texts)
