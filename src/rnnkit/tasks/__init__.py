"""Tasks: one module per task (reader + model + metric + output format), and one registry.

`TASKS` holds every task's `Task` declaration (`rnnkit.tasks.base`); the CLI, export, the
service and `rnnkit.load` dispatch through it. `load_predictor(directory)` reads the task
recorded in a model directory and returns its predictor on PyTorch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rnnkit.errors import ModelDirectoryError
from rnnkit.tasks.base import Task, TaskRegistry, TrainOption
from rnnkit.tasks.classification import CLASSIFY
from rnnkit.tasks.common import read_task_name
from rnnkit.tasks.generation import GENERATE
from rnnkit.tasks.tagging_train import JOINT, TAG
from rnnkit.tasks.translation_train import TRANSLATE

TASKS = TaskRegistry([CLASSIFY, TAG, JOINT, TRANSLATE, GENERATE])


def load_predictor(directory: str | Path) -> Any:
    """The predictor of the model directory written by ``rnnkit train`` (on PyTorch)."""
    task = read_task_name(directory)
    if task not in TASKS:
        raise ModelDirectoryError(
            f"{Path(directory) / 'config.json'}: unknown task {task!r}; this rnnkit reads "
            f"{TASKS.names()}"
        )
    return TASKS.get(task).predictor.load(directory)


__all__ = ["TASKS", "Task", "TaskRegistry", "TrainOption", "load_predictor"]
