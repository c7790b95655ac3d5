"""Options shared by several commands (typer ``Annotated`` types)."""

from __future__ import annotations

from typing import Annotated

import typer

Runtime = Annotated[
    str,
    typer.Option(
        help="torch, onnx (ONNX Runtime; run `rnnkit export DIR` first) or onnx-int8 (its "
        "int8 twin; run `rnnkit export DIR --quantize int8` first)."
    ),
]
EncodingErrors = Annotated[
    str,
    typer.Option(
        help="Input bytes (stdin, TEXT arguments, data files) that are not UTF-8 text (or NUL): "
        "'strict' (the default) stops with the file or <stdin>, line and byte; 'replace' reads "
        "them as U+FFFD.",
    ),
]
MaxTokens = Annotated[
    int | None,
    typer.Option(
        min=1,
        help="Read at most this many tokens of each input text; longer ones get --over-length "
        "(default: no limit).",
    ),
]
OverLength = Annotated[
    str,
    typer.Option(
        help="A text longer than --max-tokens: 'truncate' (the default) reads its first "
        "--max-tokens tokens and warns with the counts; 'error' refuses it "
        "(serve: 413).",
    ),
]
Device = Annotated[
    str | None,
    typer.Option(
        help="auto (a GPU when torch sees one; the default), cpu, cuda or cuda:N. The model "
        "directory loads on any device."
    ),
]
Precision = Annotated[
    str | None,
    typer.Option(help="fp32 (default), or mixed precision on CUDA: bf16, or fp16 (loss scaled)."),
]
InferenceDevice = Annotated[
    str,
    typer.Option(
        "--device",
        help="cpu (the default), auto (a GPU when torch sees one), cuda or cuda:N; GPUs run "
        "the torch runtime.",
    ),
]
