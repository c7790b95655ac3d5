"""``rnnkit.load``: a model directory on the torch or the ONNX runtime.

It sits above export (the ONNX runtime models) and below serving and the CLI, which both load
through it; the package root re-exports it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rnnkit.errors import ConfigError

RUNTIMES = ("torch", "onnx", "onnx-int8")


def load(directory: str | Path, runtime: str = "torch", device: str = "cpu") -> Any:
    """Loads the model directory written by ``rnnkit train``; returns its task's predictor.

    Example::

        classifier = rnnkit.load("runs/intent")
        classifier.predict(["What time is it?"])[0].label  # 'ask_time'

    ``runtime="onnx"`` runs the same predictor on ONNX Runtime over the directory's
    ``model.onnx`` (written by ``rnnkit export``); ``runtime="onnx-int8"`` on its int8 twin
    ``model.int8.onnx`` (written by ``rnnkit export --quantize int8``).

    ``device`` (torch runtime): ``cpu`` (the default), ``auto`` (a GPU when torch sees one),
    ``cuda`` or ``cuda:N``; on a GPU the model runs there behind
    `rnnkit.training.device.DeviceModel`. ONNX Runtime runs on the CPU.
    """
    # Imported here so that ``import rnnkit`` stays light (no torch until a model is loaded).
    from rnnkit.tasks import load_predictor
    from rnnkit.training.device import DeviceModel, resolve_device

    if runtime not in RUNTIMES:
        raise ConfigError(f"runtime: expected one of {list(RUNTIMES)}, got {runtime!r}")
    if runtime != "torch" and device not in ("cpu", "auto"):
        raise ConfigError(
            f"device: {device!r} is for runtime 'torch'; ONNX Runtime ({runtime!r}) runs on "
            "the CPU here (use cpu or auto)"
        )
    place = resolve_device(device) if runtime == "torch" else None
    predictor = load_predictor(directory)
    if place is not None and place.type != "cpu":
        predictor.model = DeviceModel(predictor.model, place)
    if runtime != "torch":
        from rnnkit.export.onnx import load_onnx

        return load_onnx(predictor, directory, quantized=runtime == "onnx-int8")
    return predictor
