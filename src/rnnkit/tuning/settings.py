"""`TuneSettings`: what ``rnnkit tune`` was asked for; `prepare` checks all of it (and the
search space) before any trial runs, and returns the `Plan` every worker follows."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rnnkit.config import apply_overrides, config_from_dict, load_config_file
from rnnkit.errors import ConfigError
from rnnkit.tasks import TASKS, Task
from rnnkit.tuning.space import Space, default_space, load_space

PRUNERS = ("median", "halving", "time")
STUDY_FILE = "study.db"


@dataclass(frozen=True)
class TuneSettings:
    """One hyper-parameter search: the task, its data, the budget and how to search."""

    task: str  # a task name in rnnkit.tasks.TASKS
    out: Path  # DIR: study.db, best/, best.yaml, trials.csv, the plots
    # Wall-clock minutes for the whole search; a resumed search gets what is left.
    budget_minutes: float
    train: str | None = None  # training data (else data.train of config_file)
    # dev data, which scores every trial (else data.dev of config_file, else the held-out
    # data.dev_holdout of the training data)
    dev: str | None = None
    trials: int | None = None  # stop after this many trials; None: when the budget is spent
    space_file: Path | None = None  # YAML entries laid over the task's default search space
    # Worker processes sharing the study, each with 1/jobs of the CPU threads.
    jobs: int = 1
    # The TPE sampler's seed: the same seed proposes the same trials in one worker; other
    # workers and a resumed search draw their own from it (rnnkit.tuning.study.sampler_seed).
    seed: int = 13
    # Any database URL Optuna accepts (postgresql://..., sqlite:///...); None: DIR/study.db.
    storage: str | None = None
    study_name: str | None = None  # None: "rnnkit-TASK"; workers on one storage share a name
    config_file: Path | None = None  # the base recipe the space varies (default: the task's)
    overrides: tuple[str, ...] = ()  # --set KEY=VALUE on the base recipe
    # "median": stop a trial whose dev metric is below the median of earlier trials at the
    # same epoch; "halving": successive halving (Li et al. 2018's ASHA rungs); "time": the
    # median of earlier trials after as many seconds (rnnkit.tuning.pruners).
    pruner: str = "median"
    # The first epoch at which a trial may be pruned (one slow epoch is not a bad run).
    warmup_epochs: int = 2
    progress: bool = True  # the budget bar (the lines per trial are always printed)


@dataclass(frozen=True)
class Plan:
    """A checked search: the task, the base recipe, the space and where the study lives."""

    task: Task
    base: Any  # the task's run config that every trial starts from
    space: Space
    storage: str
    study_name: str
    direction: str  # "maximize" or "minimize", from the base recipe's trainer.mode
    monitor: str  # the dev metric every trial is scored on (trainer.monitor)


def prepare(settings: TuneSettings) -> Plan:
    """Checks ``settings``: one-line ``ConfigError`` for a bad budget, count, space or task."""
    if not settings.budget_minutes > 0:
        raise ConfigError(f"--budget-minutes must be > 0, got {settings.budget_minutes!r}")
    for name, value in (("--trials", settings.trials), ("--jobs", settings.jobs)):
        if value is not None and value < 1:
            raise ConfigError(f"{name} must be at least 1, got {value!r}")
    if settings.pruner not in PRUNERS:
        raise ConfigError(f"pruner must be one of {', '.join(PRUNERS)}, got {settings.pruner!r}")
    task = TASKS.get(settings.task)
    base = base_config(task, settings)
    space = default_space(base)
    if settings.space_file is not None:
        space = load_space(settings.space_file, task.config_class, space)
    storage = settings.storage or f"sqlite:///{(Path(settings.out) / STUDY_FILE).resolve()}"
    trainer = base.trainer
    return Plan(
        task, base, space, storage, settings.study_name or f"rnnkit-{task.name}",
        "maximize" if trainer.mode == "max" else "minimize", trainer.monitor,
    )  # fmt: skip


def base_config(task: Task, settings: TuneSettings) -> Any:
    """The task's defaults ← ``config_file`` ← ``--train``/``--dev`` ← ``--set``."""
    data = load_config_file(settings.config_file) if settings.config_file else {}
    config = config_from_dict(task.config_class, data, where=str(settings.config_file or ""))
    given = [f"data.{k}={v}" for k, v in (("train", settings.train), ("dev", settings.dev)) if v]
    config = apply_overrides(config, [*given, *settings.overrides])
    if not config.data.train:
        raise ConfigError("--train is required (or give it in --config)")
    return config
