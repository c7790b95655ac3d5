"""Options shared by several commands (typer ``Annotated`` types)."""

from __future__ import annotations

from typing import Annotated

import typer

Runtime = Annotated[
    str, typer.Option(help="torch, or onnx (ONNX Runtime; run `rnnkit export DIR` first).")
]
EncodingErrors = Annotated[
    str,
    typer.Option(
        help="Input bytes (stdin, TEXT arguments, data files) that are not UTF-8 text (or NUL): "
        "'strict' (the default) stops with the file or <stdin>, line and byte; 'replace' reads "
        "them as U+FFFD.",
    ),
]
