"""Every damaged model directory is refused by one line naming the file, for every task.

Each damage (see `tests.reliability.damage`) is made on a copy of a tiny trained model of
each task, then read through `rnnkit.load` and through each command that reads a model
directory: predict, evaluate, export and serve. None may load, print a traceback or exit 0.
"""

from __future__ import annotations

import shutil

import pytest
from typer.testing import CliRunner

import rnnkit
from rnnkit.cli.app import app
from rnnkit.errors import ModelDirectoryError
from tests.reliability.conftest import TASKS
from tests.reliability.damage import DAMAGES

runner = CliRunner()


def commands(task: str, directory: str, data: str, runtime: str) -> dict[str, list[str]]:
    """The command lines that read ``directory`` with ``runtime`` (export reads PyTorch
    weights and rewrites the ONNX files, so it is not run for a damaged ONNX file)."""
    lines = {
        "predict": ["predict", directory, "what time is it", "--runtime", runtime],
        "evaluate": ["evaluate", directory, data, "--runtime", runtime],
        "serve": ["serve", directory, "--runtime", runtime],
    }
    if runtime == "torch":
        lines["export"] = ["export", directory]
    return lines


@pytest.mark.parametrize("damage", DAMAGES, ids=lambda damage: damage.__name__)
@pytest.mark.parametrize("task", TASKS)
def test_damaged_directory_is_refused_in_one_line(
    task, damage, exported_models, labelled_data, tmp_path, monkeypatch
):
    directory = shutil.copytree(exported_models[task], tmp_path / task)
    expected = damage(directory, task)
    served = []
    monkeypatch.setattr("uvicorn.run", lambda *args, **kwargs: served.append(args))

    with pytest.raises(ModelDirectoryError) as raised:
        rnnkit.load(directory, runtime=expected.runtime)
    message = str(raised.value)
    assert str(directory / expected.file) in message and expected.says in message
    assert "\n" not in message

    data = str(labelled_data[task])
    for name, line in commands(task, str(directory), data, expected.runtime).items():
        result = runner.invoke(app, line)
        assert result.exit_code == 1, (name, result.output)
        assert result.stderr.strip() == f"error: {message}", name
        assert "Traceback" not in result.output
    assert served == []


@pytest.mark.parametrize("task", TASKS)
def test_undamaged_copy_loads(task, exported_models, tmp_path):
    """The control: the same copy, undamaged, loads on both runtimes."""
    directory = shutil.copytree(exported_models[task], tmp_path / task)
    for runtime in ("torch", "onnx"):
        assert rnnkit.load(directory, runtime=runtime).task == task
