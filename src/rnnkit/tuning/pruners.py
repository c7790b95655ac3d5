"""The pruners a search can stop trials with: Optuna's median and successive-halving pruners,
which compare trials at equal epochs, and `EqualTimeMedianPruner`, which compares them at
equal time.

Why equal time: a search has a wall-clock budget, not an epoch budget. At equal epochs a
2-layer network of 512 per direction looks as promising as the default model after its second
epoch, though that epoch took it five times as long; it then holds a worker for a third of a
15-minute search. At equal time it is measured against what the finished trials had reached in
the seconds it has had, as ASHA does with time as its resource (Li et al. 2020). On names it
ran more trials but found less than the median pruner (BENCHMARKS.md, "Hyper-parameter
search"): nearly every recipe is slower than the default one, so at equal time nearly every
one is behind it mid-schedule. It is an option; the median pruner is the default.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rnnkit.tuning.settings import TuneSettings

# The trial's user attribute with the seconds from its start (data loading included) to the
# end of each epoch: {"1": 12.3, "2": 24.1, ...}, beside Optuna's per-epoch dev metric.
EPOCH_SECONDS = "epoch_seconds"
STARTUP_TRIALS = 2  # finished trials the two median pruners wait for before they stop any


def build_pruner(settings: TuneSettings) -> Any:
    """The pruner ``settings.pruner`` names, from epoch ``settings.warmup_epochs`` on."""
    import optuna

    if settings.pruner == "median":
        return optuna.pruners.MedianPruner(
            n_startup_trials=STARTUP_TRIALS, n_warmup_steps=settings.warmup_epochs
        )
    if settings.pruner == "time":
        return EqualTimeMedianPruner(warmup_epochs=settings.warmup_epochs)
    return optuna.pruners.SuccessiveHalvingPruner(min_resource=settings.warmup_epochs)


def anytime_best(
    values: Mapping[int, float], seconds: Mapping[str, float], at: float, maximize: bool
) -> float:
    """The best of a trial's per-epoch ``values`` among the epochs that ended by ``at``
    seconds from its start (``seconds``: its `EPOCH_SECONDS`); NaN when none had."""
    reached = [
        value for epoch, value in values.items()
        if str(epoch) in seconds and seconds[str(epoch)] <= at and not math.isnan(value)
    ]  # fmt: skip
    if not reached:
        return math.nan
    return max(reached) if maximize else min(reached)


class EqualTimeMedianPruner:
    """Stops a trial whose best dev metric so far is worse than the median of what the
    finished trials had reached after as many seconds (their best epoch ended by then).
    Optuna calls it as it calls its own pruners: ``prune(study, trial) -> bool``.

    A trial is judged from its ``warmup_epochs``-th epoch on, once ``STARTUP_TRIALS`` trials
    have finished, and only against finished trials that had ended an epoch by its time.
    Trials must carry `EPOCH_SECONDS` (the search's epoch reporter sets it).
    """

    def __init__(self, warmup_epochs: int = 2) -> None:
        self.warmup_epochs = warmup_epochs

    def prune(self, study: Any, trial: Any) -> bool:
        import optuna

        step = trial.last_step
        if step is None or step < self.warmup_epochs:
            return False
        finished = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
        if len(finished) < STARTUP_TRIALS:
            return False
        seconds = trial.user_attrs.get(EPOCH_SECONDS, {})
        if str(step) not in seconds:
            return False
        now = seconds[str(step)]
        maximize = study.direction == optuna.study.StudyDirection.MAXIMIZE
        mine = anytime_best(trial.intermediate_values, seconds, now, maximize)
        if math.isnan(mine):
            return True  # every epoch so far gave NaN
        theirs = [
            anytime_best(t.intermediate_values, t.user_attrs.get(EPOCH_SECONDS, {}), now, maximize)
            for t in finished
        ]
        reached = [value for value in theirs if not math.isnan(value)]
        if not reached:
            return False
        median = statistics.median(reached)
        return mine < median if maximize else mine > median
