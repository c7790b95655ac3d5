"""Tasks: one module per task (reader + model + metric + output format), and one registry.

`load(directory)` reads the task recorded in a model directory and returns its predictor.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rnnkit.errors import ConfigError, ModelDirectoryError


def task_registry() -> dict[str, Any]:
    """Task name → predictor class (imported here so that ``import rnnkit`` stays light)."""
    from rnnkit.tasks.classification import Classifier
    from rnnkit.tasks.generation import TextGenerator
    from rnnkit.tasks.tagging import JointTagger, Tagger
    from rnnkit.tasks.translation import Translator

    predictors = (Classifier, Tagger, JointTagger, Translator, TextGenerator)
    return {predictor.task: predictor for predictor in predictors}


def get_task(name: str) -> Any:
    tasks = task_registry()
    if name not in tasks:
        raise ConfigError(f"unknown task {name!r}; expected one of {sorted(tasks)}")
    return tasks[name]


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
    from rnnkit.tasks.common import read_task_name

    if runtime not in RUNTIMES:
        raise ConfigError(f"runtime: expected one of {list(RUNTIMES)}, got {runtime!r}")
    task = read_task_name(directory)
    if task not in task_registry():
        raise ModelDirectoryError(
            f"{Path(directory) / 'config.json'}: unknown task {task!r}; this rnnkit reads "
            f"{sorted(task_registry())}"
        )
    from rnnkit.training.device import DeviceModel, resolve_device

    if runtime != "torch" and device not in ("cpu", "auto"):
        raise ConfigError(
            f"device: {device!r} is for runtime 'torch'; ONNX Runtime ({runtime!r}) runs on "
            "the CPU here (use cpu or auto)"
        )
    place = resolve_device(device) if runtime == "torch" else None
    predictor = get_task(task).load(directory)
    if place is not None and place.type != "cpu":
        predictor.model = DeviceModel(predictor.model, place)
    if runtime != "torch":
        from rnnkit.export.onnx import load_onnx

        return load_onnx(predictor, directory, quantized=runtime == "onnx-int8")
    return predictor
