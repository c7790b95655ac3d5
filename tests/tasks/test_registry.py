"""Every registered task supplies every piece of its `Task`, and each piece fits the others."""

from __future__ import annotations

import dataclasses

import pytest
from typer.testing import CliRunner

from rnnkit.cli import app
from rnnkit.errors import ConfigError
from rnnkit.export.onnx import ONNX_GRAPHS
from rnnkit.serving.tasks import SERVICE_SHAPES
from rnnkit.tasks import TASKS, Task, TaskRegistry
from rnnkit.tasks.base import option_values
from tests.tasks.example_task import PAIR

TASK_NAMES = ["classify", "generate", "joint", "tag", "translate"]


@pytest.fixture(params=[*TASKS, PAIR], ids=lambda task: task.name)
def task(request) -> Task:
    return request.param


def test_the_registry_holds_the_five_tasks():
    assert TASKS.names() == TASK_NAMES


def test_every_task_supplies_every_piece(task):
    assert task.predictor.task == task.name
    assert callable(task.predictor.load) and callable(task.predictor.evaluate_file)
    assert callable(task.train) and callable(task.print_report)
    assert task.print_prediction is None or hasattr(task.predictor, "predict")
    assert task.metrics and task.summary and task.example.startswith(f"rnnkit train {task.name}")
    assert task.onnx in ONNX_GRAPHS, f"{task.name}: unknown ONNX graph family {task.onnx!r}"
    assert task.serving in SERVICE_SHAPES, f"{task.name}: unknown service shape {task.serving!r}"
    assert task.gradient_flow is not None or task is PAIR  # the example keeps to the minimum
    config = task.config_class()
    assert {"data", "model", "trainer"} <= {f.name for f in dataclasses.fields(config)}


def test_every_train_option_sets_a_config_field(task):
    names = [option.name for option in task.train_options]
    assert len(names) == len(set(names)), f"{task.name}: an option declared twice"
    config = task.config_class()
    for option in task.train_options:
        for dotted in option.fields:
            section = config
            for part in dotted.split("."):
                assert hasattr(section, part), f"{task.name} --{option.name}: no {dotted}"
                section = getattr(section, part)


def test_option_values_fill_every_field_of_an_option_given():
    translate = TASKS.get("translate")
    sections = option_values(translate, {"cell": "gru", "layers": None, "attention": "dot"})
    assert sections == {
        "model.encoder": {"cell": "gru"},
        "model.decoder": {"cell": "gru", "attention": "dot"},
    }


@pytest.mark.parametrize("task", list(TASKS), ids=lambda task: task.name)
def test_every_task_has_a_train_command_with_its_options(task):
    result = CliRunner().invoke(app, ["train", task.name, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert task.summary in result.output
    for option in task.train_options:
        flag = (option.flag or "--" + option.name.replace("_", "-")).split("/")[0]
        assert flag in result.output, f"rnnkit train {task.name}: {flag} missing"


def test_the_registry_names_the_tasks_it_knows():
    registry = TaskRegistry([PAIR])
    with pytest.raises(ConfigError, match=r"unknown task 'parse'; expected one of \['pair'\]"):
        registry.get("parse")
    with pytest.raises(ConfigError, match=r"task 'pair' is already registered"):
        registry.register(PAIR)


def test_a_task_naming_an_unknown_kind_is_named():
    registry = TaskRegistry([dataclasses.replace(PAIR, onnx="transformer")])
    with pytest.raises(
        ConfigError,
        match=r"task 'pair': ONNX graph family 'transformer' unknown; expected one of "
        r"\['classifier', 'joint', 'language-model', 'seq2seq', 'tagger'\]",
    ):
        registry.entry("pair", "onnx", ONNX_GRAPHS, "ONNX graph family")
    assert (
        registry.entry("pair", "serving", SERVICE_SHAPES, "service shape")
        is (SERVICE_SHAPES["classification"])
    )
