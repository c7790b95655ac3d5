"""What a search leaves in DIR: ``best/`` (a normal model directory), ``best.yaml`` (its recipe
for ``rnnkit train TASK --config``), ``trials.csv`` and the PNG plots."""

from __future__ import annotations

import csv
import fcntl
import shutil
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from rnnkit.tuning.settings import Plan

BEST_DIR = "best"
BEST_YAML = "best.yaml"
TRIALS_CSV = "trials.csv"
HISTORY_PNG = "history.png"
IMPORTANCES_PNG = "importances.png"
LOCK_FILE = ".best.lock"


@contextmanager
def locked(out: Path) -> Iterator[None]:
    """Only one worker process at a time updates ``best/`` and ``best.yaml``."""
    with open(out / LOCK_FILE, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def keep_if_best(study: Any, number: int, trial_dir: Path, out: Path, plan: Plan) -> bool:
    """Copies the finished trial ``number``'s model directory to ``out/best`` (and its recipe
    to ``best.yaml``) when it is the study's best; returns whether it was."""
    with locked(out):
        best = study.best_trial
        if best.number != number:
            return False
        temporary = out / f"{BEST_DIR}.tmp"
        shutil.rmtree(temporary, ignore_errors=True)
        shutil.copytree(trial_dir, temporary, ignore=shutil.ignore_patterns("checkpoints"))
        shutil.rmtree(out / BEST_DIR, ignore_errors=True)
        temporary.rename(out / BEST_DIR)
        write_best_yaml(best, out / BEST_YAML, plan)
        return True


def write_best_yaml(trial: Any, path: Path, plan: Plan) -> None:
    """The best trial's recipe, as ``rnnkit train TASK --config best.yaml`` reads it."""
    header = (
        f"# The best trial of `rnnkit tune {plan.task.name}`: trial {trial.number}, dev "
        f"{plan.monitor} {trial.value:.4f}.\n# Reproduce it: rnnkit train {plan.task.name} "
        f"--config {path.name} --out DIR\n"
    )
    body = yaml.safe_dump(trial.user_attrs["config"], sort_keys=False)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(header + body, encoding="utf-8")
    temporary.replace(path)


def write_trials_csv(study: Any, path: Path) -> None:
    """One row per trial: number, state, value, seconds, epochs, how its training stopped
    (``completed``, ``early_stopping``, ``pruned`` or ``search_budget``; empty for a failed
    trial), recipe (``defaults`` for trial 0), parameters."""
    trials = study.get_trials(deepcopy=False)
    keys = sorted({key for trial in trials for key in trial.params})
    columns = ["number", "state", "value", "seconds", "epochs", "stop_reason", "recipe", *keys]
    temporary = path.with_suffix(".tmp")
    with open(temporary, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for trial in trials:
            seconds = trial.duration.total_seconds() if trial.duration is not None else ""
            attrs = trial.user_attrs
            recipe = attrs.get("recipe") or (
                f"restart of {attrs['restart_of']}" if "restart_of" in attrs else ""
            )
            row = [trial.number, trial.state.name, "" if trial.value is None else trial.value]
            row += [round(seconds, 1) if seconds != "" else "", attrs.get("epochs", "")]
            row += [attrs.get("stop_reason") or "", recipe]
            writer.writerow(row + [trial.params.get(key, "") for key in keys])
    temporary.replace(path)


def last_value(trial: Any) -> float | None:
    """A trial's value, or for a pruned one the last dev metric it reported."""
    if trial.value is not None:
        return float(trial.value)
    if trial.intermediate_values:
        return float(trial.intermediate_values[max(trial.intermediate_values)])
    return None


def draw_plots(study: Any, out: Path, monitor: str) -> list[Path]:
    """``history.png`` (each trial's dev metric, pruned ones marked, the best so far) and,
    when at least two trials finished, ``importances.png`` (Optuna's importances)."""
    from optuna.trial import TrialState

    from rnnkit.metrics.plotting import headless_pyplot

    plt = headless_pyplot()
    trials = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED))
    if not trials:
        return []
    figure, axes = plt.subplots(figsize=(7, 4))
    for state, marker, label in ((TrialState.COMPLETE, "o", "finished"),
                                 (TrialState.PRUNED, "x", "pruned (last epoch)")):  # fmt: skip
        points = [(t.number, last_value(t)) for t in trials if t.state == state]
        points = [(n, v) for n, v in points if v is not None]
        if points:
            axes.scatter(*zip(*points, strict=True), marker=marker, label=label)
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    if complete:
        best, pick = [], max if study.direction.name == "MAXIMIZE" else min
        for trial in complete:
            best.append(pick([trial.value, *best[-1:]]))
        axes.step([t.number for t in complete], best, where="post", label="best so far")
    axes.set(xlabel="trial", ylabel=f"dev {monitor}", title="Optimisation history")
    axes.legend()
    written = [save(plt, figure, out / HISTORY_PNG)]
    importances = param_importances(study)
    if importances:
        figure, axes = plt.subplots(figsize=(7, 0.4 * len(importances) + 1.2))
        names = list(importances)[::-1]
        axes.barh(names, [importances[name] for name in names])
        axes.set(xlabel=f"importance for dev {monitor}", title="Parameter importances")
        written.append(save(plt, figure, out / IMPORTANCES_PNG))
    return written


def param_importances(study: Any) -> dict[str, float]:
    """Optuna's importances, or {} when they cannot be computed yet (fewer than two finished
    trials, or no parameter that varied)."""
    import optuna
    from optuna.trial import TrialState

    # Optuna answers one finished trial with equal importances (and a warning): no measurement
    if len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))) < 2:
        return {}
    with warnings.catch_warnings():  # "importances will be equal" when the trials tie
        warnings.simplefilter("ignore", UserWarning)
        try:
            return dict(optuna.importance.get_param_importances(study))
        except (RuntimeError, ValueError):
            return {}


def save(plt: Any, figure: Any, path: Path) -> Path:
    figure.tight_layout()
    try:
        figure.savefig(path, format="png", dpi=100)
    finally:
        plt.close(figure)
    return path
