"""Options shared by several commands (typer ``Annotated`` types)."""

from __future__ import annotations

from typing import Annotated

import typer

Runtime = Annotated[
    str, typer.Option(help="torch, or onnx (ONNX Runtime; run `rnnkit export DIR` first).")
]
