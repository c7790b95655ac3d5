"""``rnnkit tune`` end to end on a tiny data set: resume after kill -9, best/ loads and
predicts, best.yaml reproduces the best trial, a clearly worse trial is pruned, two processes
share one SQLite study."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
import sqlalchemy.exc
import yaml
from optuna.trial import TrialState
from tests.tasks.conftest import write_intents
from typer.testing import CliRunner

import rnnkit
from rnnkit.cli import app
from rnnkit.tasks.classification import ClassifyConfig
from rnnkit.tuning import TuneSettings, default_space, tune
from rnnkit.tuning.settings import prepare
from rnnkit.tuning.trial import run_trial

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]
# A tiny base recipe: each trial trains for a second or two.
BASE = ["--set", "model.hidden_size=16", "--set", "model.embedding_dim=16",
        "--set", "data.batch_size=8", "--set", "trainer.epochs=3"]  # fmt: skip
FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)


def tiny_space(path: Path) -> Path:
    """Only the learning rate and the hidden size vary (every other default key dropped)."""
    entries = {key: None for key in default_space(ClassifyConfig)}
    entries["trainer.lr"] = {"low": 0.003, "high": 0.03, "log": True}
    entries["model.hidden_size"] = {"choices": [8, 16]}
    path.write_text(yaml.safe_dump(entries))
    return path


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tune-data")
    train, dev = write_intents(folder / "train.csv", 3, 0), write_intents(folder / "dev.csv", 1, 1)
    return train, dev, tiny_space(folder / "space.yaml")


def command(data, out: Path, *extra: str) -> list[str]:
    train, dev, space = data
    return [
        *("tune", "classify", "--train", str(train), "--dev", str(dev), "--out", str(out)),
        *("--budget-minutes", "10", "--space", str(space), "--no-progress", *BASE, *extra),
    ]


def subprocess_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT / "src") + os.pathsep + str(ROOT)}


def load(out: Path, name: str = "rnnkit-classify") -> optuna.Study:
    return optuna.load_study(study_name=name, storage=f"sqlite:///{out / 'study.db'}")


def wait_for(condition, seconds: float = 120.0) -> None:
    end = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < end, "timed out waiting for the search"
        time.sleep(0.5)


@pytest.fixture(scope="module")
def resumed(data, tmp_path_factory):
    """3 trials; the process is killed (SIGKILL) while trial 1 trains, then the same command
    is run again. Returns the directory, trial 0 as it was before the kill, and the output of
    the second run."""
    out = tmp_path_factory.mktemp("tune") / "search"
    # 30 epochs (none early-stopped): trial 1 is still training a while after its first epoch.
    slow = ("--trials", "3", "--set", "trainer.epochs=30", "--set", "trainer.patience=30")
    argv = [sys.executable, "-m", "rnnkit", *command(data, out, *slow)]
    process = subprocess.Popen(argv, env=subprocess_env(), stdout=subprocess.DEVNULL)
    try:

        def trial_1_training() -> bool:
            if not (out / "study.db").exists():
                return False
            try:
                trials = load(out).get_trials(deepcopy=False)
            except (KeyError, sqlalchemy.exc.SQLAlchemyError):  # the search is making the
                return False  # tables or the study now: this poll's open races with it
            return len(trials) > 1 and bool(trials[1].intermediate_values)  # an epoch done

        wait_for(trial_1_training)
        first = load(out).get_trials()[0]
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait()
    assert process.returncode == -signal.SIGKILL
    killed = load(out).get_trials()[1]
    assert killed.state == TrialState.RUNNING  # killed midway
    result = runner.invoke(app, command(data, out, *slow))
    assert result.exit_code == 0, result.output
    return out, first, result.output


def test_a_killed_search_resumes_without_redoing_finished_trials(resumed):
    out, first, output = resumed
    trials = load(out).get_trials()
    assert first.state == TrialState.COMPLETE and first.user_attrs["recipe"] == "defaults"
    assert trials[0].datetime_complete == first.datetime_complete  # trial 0: not redone
    assert "trial 0 " not in output
    assert "trial 1 was killed midway: queued to run again" in output
    assert trials[1].state == TrialState.FAIL and "error" not in trials[1].user_attrs
    restart = [t for t in trials if t.user_attrs.get("restart_of") == 1]
    assert len(restart) == 1 and restart[0].params == trials[1].params
    assert restart[0].state in FINISHED
    assert sum(t.state in FINISHED for t in trials) == 3


def test_the_files_of_a_search(resumed):
    out, _, _ = resumed
    rows = list(csv.DictReader((out / "trials.csv").open()))
    assert [row["number"] for row in rows] == ["0", "1", "2", "3"]
    assert rows[0]["recipe"] == "defaults" and rows[1]["state"] == "FAIL"
    assert {"trainer.lr", "model.hidden_size"} <= set(rows[0])
    assert (out / "history.png").read_bytes()[:4] == b"\x89PNG"
    assert (out / "importances.png").read_bytes()[:4] == b"\x89PNG"  # three finished trials
    assert not (out / "trials").exists() or not any((out / "trials").iterdir())


def test_best_loads_and_predicts(resumed):
    out, _, _ = resumed
    model = rnnkit.load(out / "best")
    predictions = model.predict(["book a flight to paris", "what is the weather"])
    assert len(predictions) == 2
    assert all(p.label in model.labels.labels for p in predictions)


def test_best_yaml_reproduces_the_best_trial(resumed, tmp_path):
    out, _, _ = resumed
    best = load(out).best_trial
    again = tmp_path / "again"
    result = runner.invoke(
        app, ["train", "classify", "--config", str(out / "best.yaml"), "--out", str(again),
              "--no-progress"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"accuracy {best.value:.4f}" in result.output


@pytest.mark.parametrize("pruner", ["median", "time"])
def test_a_clearly_worse_trial_is_pruned(data, tmp_path, pruner):
    """Two good trials, then one at a learning rate too small to learn: the median pruner (at
    equal epochs or at equal time) stops it at the end of its first prunable epoch, and the
    trainer ends there cleanly."""
    train, dev, _ = data
    space = tmp_path / "lr.yaml"
    entries = {key: None for key in default_space(ClassifyConfig)}
    entries["trainer.lr"] = {"low": 1e-7, "high": 0.05, "log": True}
    space.write_text(yaml.safe_dump(entries))
    out = tmp_path / "search"
    out.mkdir()
    study = optuna.create_study(
        study_name="rnnkit-classify", storage=f"sqlite:///{out / 'study.db'}", direction="maximize"
    )
    for lr in (0.02, 0.02, 1e-7):
        study.enqueue_trial({"trainer.lr": lr})
    settings = TuneSettings(
        "classify", out, 10, train=str(train), dev=str(dev), trials=3, space_file=space,
        overrides=("model.hidden_size=16", "model.embedding_dim=16", "data.batch_size=8",
                   "trainer.epochs=5", "trainer.patience=10"),
        pruner=pruner, progress=False,
    )  # fmt: skip
    result = tune(settings)
    trials = load(out).get_trials()
    assert [t.state for t in trials] == [
        TrialState.COMPLETE,
        TrialState.COMPLETE,
        TrialState.PRUNED,
    ]
    assert sorted(trials[2].intermediate_values) == [1, 2]  # stopped after epoch 2 of 5
    assert trials[2].user_attrs["stop_reason"] == "pruned"
    assert result.trials == {"COMPLETE": 2, "PRUNED": 1}
    seconds = trials[0].user_attrs["epoch_seconds"]  # what the time pruner compares
    assert list(seconds) == ["1", "2", "3", "4", "5"] and 0 < seconds["1"] < seconds["5"]


def test_the_deadline_cuts_a_trial_at_the_next_step(data, tmp_path):
    """A trial started with no time left stops after one step, not at an epoch end: that
    partial epoch is evaluated and is the trial's value, so a search ends near its budget."""
    train, dev, space = data
    settings = TuneSettings(
        "classify", tmp_path, 10, train=str(train), dev=str(dev), space_file=space,
        overrides=("model.hidden_size=16", "model.embedding_dim=16", "data.batch_size=8",
                   "trainer.epochs=50"),
        progress=False,
    )  # fmt: skip
    plan = prepare(settings)
    trial = optuna.create_study(direction=plan.direction).ask()
    value = run_trial(trial, plan, tmp_path, seconds_left=0.0)
    assert trial.user_attrs["stop_reason"] == "search_budget"
    assert trial.user_attrs["epochs"] == 1
    [record] = [json.loads(line) for line in (tmp_path / "trials/0/metrics.jsonl").open()]
    assert record["step"] == 1 and record["dev_accuracy"] == value


def test_two_processes_share_one_sqlite_study(data, tmp_path):
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    argvs = [
        [sys.executable, "-m", "rnnkit", *command(data, tmp_path / f"out{i}", "--trials", "4")]
        for i in range(2)
    ]
    processes = [
        subprocess.Popen(
            [*argv, "--storage", url],
            env=subprocess_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for argv in argvs
    ]
    outputs = [process.communicate(timeout=300)[0] for process in processes]
    assert [process.returncode for process in processes] == [0, 0], outputs
    trials = optuna.load_study(study_name="rnnkit-classify", storage=url).get_trials()
    finished = [t for t in trials if t.state in FINISHED]
    assert 4 <= len(finished) <= 5  # a process may start one more while the other finishes
    assert len({t.user_attrs["pid"] for t in finished}) == 2  # both processes ran trials
    assert sum(t.user_attrs.get("recipe") == "defaults" for t in trials) == 1


def test_jobs_run_trials_in_worker_processes(data, tmp_path):
    train, dev, space = data
    settings = TuneSettings(
        "classify", tmp_path / "search", 10, train=str(train), dev=str(dev), trials=3,
        space_file=space, jobs=2, overrides=tuple(BASE[1::2]), progress=False,
    )  # fmt: skip
    result = tune(settings)
    trials = load(tmp_path / "search").get_trials()
    finished = [t for t in trials if t.state in FINISHED]
    assert 3 <= len(finished) <= 4 and result.best_number is not None
    pids = {t.user_attrs["pid"] for t in finished}
    assert len(pids) == 2 and os.getpid() not in pids
    assert (tmp_path / "search" / "best" / "model.safetensors").is_file()
