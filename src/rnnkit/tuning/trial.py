"""One trial: the task trained with the trial's parameters, its dev metric reported to Optuna
after every epoch, and stopped cleanly (at an epoch end, its model directory complete) when
the pruner says so."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

from rnnkit.config import config_to_dict
from rnnkit.training.callbacks import scoped_callbacks
from rnnkit.training.state import TrainerView
from rnnkit.tuning.settings import Plan
from rnnkit.tuning.space import apply_params, suggest
from rnnkit.tuning.study import HOST

TRIALS_DIR = "trials"


class EpochReporter:
    """An ``epoch_end`` callback: reports the dev metric to the trial at step = epoch and sets
    ``stop_reason = "pruned"`` when the pruner stops it; then the trainer ends the fit."""

    def __init__(self, trial: Any, monitor: str, parent: int | None) -> None:
        self.trial, self.monitor, self.parent = trial, monitor, parent
        self.pruned_at: int | None = None

    def __call__(self, trainer: TrainerView) -> None:
        if self.parent is not None and os.getppid() != self.parent:
            os._exit(1)  # the search that started this worker was killed: stop like it did
        epoch = trainer.last_record["epoch"]
        self.trial.report(trainer.last_record[f"dev_{self.monitor}"], epoch)
        if trainer.state.stop_reason is None and self.trial.should_prune():
            trainer.state.stop_reason = "pruned"
            self.pruned_at = epoch


def run_trial(
    trial: Any, plan: Plan, out: Path, seconds_left: float, parent: int | None = None
) -> float:
    """Trains the trial's recipe into ``out/trials/N``; returns its best dev metric, or raises
    ``optuna.TrialPruned``. The trial gets at most ``seconds_left`` (stopping at the first
    epoch end after them); its recipe is kept as the user attribute ``config``."""
    import optuna

    trial.set_user_attr("host", HOST)
    trial.set_user_attr("pid", os.getpid())
    config = apply_params(plan.base, suggest(trial, plan.space))
    trial.set_user_attr("config", config_to_dict(config))
    limit = seconds_left / 60.0
    if config.trainer.max_minutes is not None:
        limit = min(limit, config.trainer.max_minutes)
    trainer = dataclasses.replace(config.trainer, max_minutes=limit)
    timed = dataclasses.replace(config, trainer=trainer)
    reporter = EpochReporter(trial, plan.monitor, parent)
    with scoped_callbacks({"epoch_end": reporter}):
        result = plan.task.train(timed, out / TRIALS_DIR / str(trial.number), progress=False)
    trial.set_user_attr("epochs", result.epochs_run)
    trial.set_user_attr("stop_reason", result.stop_reason)
    if reporter.pruned_at is not None:
        raise optuna.TrialPruned(f"pruned at epoch {reporter.pruned_at}")
    return float(result.best_metrics[plan.monitor])
