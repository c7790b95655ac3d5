"""A task registered at run time gets every command from the registry alone: the example
sequence-pair classifier (tests/tasks/example_task.py) is trained, evaluated, used, exported and
served through the CLI and `rnnkit.load`, with no other code knowing about it."""

from __future__ import annotations

import json
import random

import pytest
import uvicorn
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import rnnkit
from rnnkit.cli import app
from rnnkit.tasks import TASKS
from tests.tasks.conftest import PHRASES
from tests.tasks.example_task import PAIR, TASK, PairClassifier

runner = CliRunner()


@pytest.fixture(scope="module")
def registered():
    TASKS.register(PAIR)
    yield PAIR
    TASKS.unregister(TASK)


def write_pairs(path, count: int, seed: int):
    """JSONL pairs of intent phrases: "same" when both sides ask the same thing."""
    rng = random.Random(seed)
    phrases = [(text, label) for label, texts in PHRASES.items() for text in texts]
    rows = []
    for _ in range(count):
        (first, first_label), (second, second_label) = rng.sample(phrases, 2)
        label = "same" if first_label == second_label else "different"
        rows.append(json.dumps({"text": f"{first}\t{second}", "label": label}))
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def pair_run(registered, tmp_path_factory):
    folder = tmp_path_factory.mktemp("pairs")
    train = write_pairs(folder / "train.jsonl", 60, 0)
    dev = write_pairs(folder / "dev.jsonl", 12, 1)
    out = folder / "run"
    result = runner.invoke(app, [
        "train", TASK, "--train", str(train), "--dev", str(dev), "--out", str(out),
        "--cell", "gru", "--hidden-size", "8", "--embedding-dim", "8", "--epochs", "2",
        "--batch-size", "16", "--no-progress",
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    return out, dev


def test_train_writes_a_directory_that_loads_as_the_new_task(pair_run):
    out, _ = pair_run
    predictor = rnnkit.load(out)
    assert isinstance(predictor, PairClassifier) and predictor.task == TASK
    assert sorted(predictor.labels.labels) == ["different", "same"]


def test_evaluate_reports_the_task_metrics(pair_run):
    out, dev = pair_run
    result = runner.invoke(app, ["evaluate", str(out), str(dev), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["n"] == 12 and set(PAIR.metrics) <= set(report)
    printed = runner.invoke(app, ["evaluate", str(out), str(dev)])
    assert printed.exit_code == 0 and "accuracy" in printed.output


def test_predict_answers_a_pair_and_names_a_text_that_is_not_one(pair_run):
    out, _ = pair_run
    pair = "what time is it\ttell me the time"
    result = runner.invoke(app, ["predict", str(out), pair, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["label"] in {"same", "different"}
    single = runner.invoke(app, ["predict", str(out), "what time is it"])
    assert single.exit_code == 1
    assert "'what time is it': expected two texts separated by a tab" in single.output


def test_export_and_serve_on_onnx(pair_run, monkeypatch):
    out, _ = pair_run
    exported = runner.invoke(app, ["export", str(out)])
    assert exported.exit_code == 0, exported.output
    assert (out / "model.onnx").is_file()
    runs = []
    monkeypatch.setattr(uvicorn, "run", lambda served, **options: runs.append(served))
    result = runner.invoke(app, ["serve", str(out), "--runtime", "onnx"])
    assert result.exit_code == 0, result.output
    client = TestClient(runs[0])
    info = client.get("/info").json()
    assert info["task"] == TASK and info["shape"] == "classification"
    answer = client.post("/predict", json={"text": "play some jazz\tput on music"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["predictions"][0]["label"] in {"same", "different"}


def test_unregistering_removes_the_command(registered):
    TASKS.unregister(TASK)
    try:
        result = runner.invoke(app, ["train", TASK, "--help"])
        assert result.exit_code == 2 and f"No such command '{TASK}'" in result.output
    finally:
        TASKS.register(PAIR)
