"""One trial: the task trained with the trial's parameters, its dev metric reported to Optuna
after every epoch, and stopped cleanly (at an epoch end, its model directory complete) when
the pruner says so, or at the first step after the search's deadline (that epoch cut short)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from rnnkit.config import config_to_dict
from rnnkit.training.callbacks import scoped_callbacks
from rnnkit.training.state import TrainerView
from rnnkit.tuning.pruners import EPOCH_SECONDS
from rnnkit.tuning.settings import Plan
from rnnkit.tuning.space import apply_params, suggest
from rnnkit.tuning.study import HOST

TRIALS_DIR = "trials"


class EpochReporter:
    """An ``epoch_end`` callback: reports the dev metric to the trial at step = epoch, and the
    seconds since the trial started as its `EPOCH_SECONDS`, and sets ``stop_reason =
    "pruned"`` when the pruner stops it; then the trainer ends the fit."""

    def __init__(self, trial: Any, monitor: str, parent: int | None) -> None:
        self.trial, self.monitor, self.parent = trial, monitor, parent
        self.pruned_at: int | None = None
        self.started = time.perf_counter()  # before the data is read: that time counts too
        self.seconds: dict[str, float] = {}

    def __call__(self, trainer: TrainerView) -> None:
        if self.parent is not None and os.getppid() != self.parent:
            os._exit(1)  # the search that started this worker was killed: stop like it did
        epoch = trainer.last_record["epoch"]
        self.seconds[str(epoch)] = round(time.perf_counter() - self.started, 2)
        self.trial.set_user_attr(EPOCH_SECONDS, self.seconds)
        self.trial.report(trainer.last_record[f"dev_{self.monitor}"], epoch)
        if trainer.state.stop_reason is None and self.trial.should_prune():
            trainer.state.stop_reason = "pruned"
            self.pruned_at = epoch


class Deadline:
    """A ``step_end`` callback: sets ``stop_reason = "search_budget"`` at the first step after
    ``seconds`` from now, so the trainer evaluates the epoch so far and ends the fit."""

    def __init__(self, seconds: float) -> None:
        self.at = time.perf_counter() + seconds

    def __call__(self, trainer: TrainerView) -> None:
        if trainer.state.stop_reason is None and time.perf_counter() >= self.at:
            trainer.state.stop_reason = "search_budget"


def run_trial(
    trial: Any, plan: Plan, out: Path, seconds_left: float, parent: int | None = None
) -> float:
    """Trains the trial's recipe into ``out/trials/N``; returns its best dev metric, or raises
    ``optuna.TrialPruned``. The trial gets at most ``seconds_left`` (its epoch then is cut at
    the next step and evaluated); its recipe is kept as the user attribute ``config``."""
    import optuna

    trial.set_user_attr("host", HOST)
    trial.set_user_attr("pid", os.getpid())
    config = apply_params(plan.base, suggest(trial, plan.space))
    trial.set_user_attr("config", config_to_dict(config))
    reporter = EpochReporter(trial, plan.monitor, parent)
    with scoped_callbacks({"epoch_end": reporter, "step_end": Deadline(seconds_left)}):
        result = plan.task.train(config, out / TRIALS_DIR / str(trial.number), progress=False)
    trial.set_user_attr("epochs", result.epochs_run)
    trial.set_user_attr("stop_reason", result.stop_reason)
    if reporter.pruned_at is not None:
        raise optuna.TrialPruned(f"pruned at epoch {reporter.pruned_at}")
    return float(result.best_metrics[plan.monitor])
