"""``rnnkit.load``: a model directory on the torch or the ONNX runtime.

It sits above export (the ONNX runtime models) and below serving and the CLI, which both load
through it; the package root re-exports it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rnnkit.errors import ConfigError

RUNTIMES = ("torch", "onnx")


def load(directory: str | Path, runtime: str = "torch") -> Any:
    """Loads the model directory written by ``rnnkit train``; returns its task's predictor.

    Example::

        classifier = rnnkit.load("runs/intent")
        classifier.predict(["What time is it?"])[0].label  # 'ask_time'

    ``runtime="onnx"`` runs the same predictor on ONNX Runtime over the directory's
    ``model.onnx`` (written by ``rnnkit export``).
    """
    # Imported here so that ``import rnnkit`` stays light (no torch until a model is loaded).
    from rnnkit.tasks import load_predictor

    if runtime not in RUNTIMES:
        raise ConfigError(f"runtime: expected one of {list(RUNTIMES)}, got {runtime!r}")
    predictor = load_predictor(directory)
    if runtime == "onnx":
        from rnnkit.export.onnx import load_onnx

        return load_onnx(predictor, directory)
    return predictor
