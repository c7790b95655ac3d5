"""The texts a command reads: its TEXT arguments, else the lines of stdin, checked as UTF-8."""

from __future__ import annotations

import sys

from rnnkit.data.report import decode_line, read_stream_lines

STDIN = "<stdin>"


def read_texts(texts: list[str] | None, encoding_errors: str = "strict") -> list[str]:
    """``texts``, or the non-blank lines of stdin when there are none (or only ``-``).

    Bytes that are not UTF-8 (or NUL) raise a `DataError` naming ``<stdin>`` and the line and
    byte, or the argument; ``encoding_errors="replace"`` reads them as U+FFFD. A BOM and
    ``\\r\\n`` line ends on stdin are dropped.
    """
    if not texts or texts == ["-"]:
        return read_stream_lines(sys.stdin.buffer, STDIN, encoding_errors)
    # Python decodes argv with surrogateescape: encoding back gives the bytes as typed.
    return [
        decode_line(
            text.encode("utf-8", "surrogateescape"), f"TEXT argument {n}", 1, encoding_errors
        )
        for n, text in enumerate(texts, start=1)
    ]
