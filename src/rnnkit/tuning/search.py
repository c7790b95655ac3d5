"""`tune`: a time-budgeted hyper-parameter search with Optuna (TPE, pruning per epoch), in
one process or in ``jobs`` worker processes that share the study's storage.

Each worker asks the study for a trial, trains it (`rnnkit.tuning.trial.run_trial`), tells
the study how it ended and keeps its model as ``best/`` when it is the best so far, until
the budget is spent or ``--trials`` trials have run. The main process shows the budget bar
and one line per finished trial, then writes ``trials.csv``, ``best.yaml`` and the plots.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rnnkit.errors import RnnkitError, TrainingError
from rnnkit.tuning.progress import SearchProgress
from rnnkit.tuning.results import (
    BEST_YAML,
    draw_plots,
    keep_if_best,
    write_best_yaml,
    write_trials_csv,
)
from rnnkit.tuning.settings import Plan, TuneSettings, prepare
from rnnkit.tuning.study import (
    BudgetClock,
    counted_trials,
    open_study,
    start_study,
    starting,
)
from rnnkit.tuning.trial import TRIALS_DIR, run_trial

POLL_SECONDS = 1.0  # how often the main process looks for trials its workers finished


@dataclass(frozen=True)
class TuneResult:
    """How a search ended: its trials by state, and the best one (None before any finished)."""

    trials: dict[str, int]  # state ("COMPLETE", "PRUNED", "FAIL", ...) -> count
    best_number: int | None
    best_value: float | None
    monitor: str
    out: Path
    restarted: list[int]  # trials of killed processes that this run queued again


def tune(settings: TuneSettings) -> TuneResult:
    """Runs (or continues) the search that ``settings`` describe; see the module docstring.

    Raises ``ConfigError`` before any trial runs for a bad budget, trial or job count, task,
    search space or storage URL.
    """
    plan = prepare(settings)
    out = Path(settings.out)
    out.mkdir(parents=True, exist_ok=True)
    study = open_study(plan, settings)
    restarted = start_study(study, plan, out / TRIALS_DIR)
    with (
        quiet_training_logs(),
        BudgetClock(out, settings.budget_minutes) as clock,
        SearchProgress(clock, plan.monitor, settings.progress) as progress,
    ):
        for number in restarted:
            progress.say(f"trial {number} was killed midway: queued to run again")

        def trial_ended(trial: Any) -> None:
            progress.trial_line(trial)
            write_trials_csv(study, out / "trials.csv")

        if settings.jobs == 1:
            work(settings, clock.deadline, on_trial_end=trial_ended)
        else:
            run_workers(settings, clock.deadline, study, trial_ended)
    write_trials_csv(study, out / "trials.csv")
    draw_plots(study, out, plan.monitor)
    result = summarise(study, plan, out, restarted)
    if result.best_number is not None:  # the study's best, also when another machine ran it
        write_best_yaml(study.best_trial, out / BEST_YAML, plan)
    return result


@contextmanager
def quiet_training_logs() -> Iterator[None]:
    """Only warnings from the trainers: the line per trial says what each run did."""
    logger = logging.getLogger("rnnkit")
    level = logger.level
    logger.setLevel(max(level, logging.WARNING))
    try:
        yield
    finally:
        logger.setLevel(level)


def work(
    settings: TuneSettings,
    deadline: float,
    threads: int | None = None,
    parent: int | None = None,
    on_trial_end: Callable[[Any], None] | None = None,
    worker: int = 0,
) -> None:
    """One worker: runs trials until ``deadline`` (a ``time.time()``) or ``settings.trials``.

    ``threads``: torch's CPU threads in this process; ``parent``: the search's process id (a
    worker stops when it is gone); ``worker``: this worker's number, 0 to jobs - 1.
    """
    if threads is not None:
        import torch

        torch.set_num_threads(threads)
    plan = prepare(settings)
    study = open_study(plan, settings, worker)
    while True:
        left = deadline - time.time()
        if left <= 0 or (settings.trials is not None and counted_trials(study) >= settings.trials):
            return
        # Optuna pops an enqueued trial without a row lock on SQLite, so two workers asking at
        # once could both run trial 0 (optuna/optuna#4621): ask one process at a time.
        with starting(plan.storage):
            trial = study.ask()
        run_and_tell(study, trial, plan, Path(settings.out), left, parent)
        if on_trial_end is not None:
            on_trial_end(study.get_trials(deepcopy=False)[trial.number])


def run_and_tell(
    study: Any, trial: Any, plan: Plan, out: Path, left: float, parent: int | None
) -> None:
    """Runs one trial and records how it ended; a finished trial that is the best so far
    becomes ``out/best``. A trial interrupted by a signal is left to be restarted."""
    import optuna

    trial_dir = out / TRIALS_DIR / str(trial.number)
    try:
        value = run_trial(trial, plan, out, left, parent)
    except optuna.TrialPruned:
        study.tell(trial, state=optuna.trial.TrialState.PRUNED)
    except RnnkitError as error:
        # Ctrl-C or SIGTERM: the trainer stops at a step boundary with this error; the trial
        # is not at fault, so it fails without an "error" and a rerun restarts it.
        interrupted = isinstance(error, TrainingError) and str(error).startswith("interrupted")
        if not interrupted:
            trial.set_user_attr("error", str(error).splitlines()[0])
        study.tell(trial, state=optuna.trial.TrialState.FAIL)
        if interrupted:
            raise
    else:
        study.tell(trial, value)
        keep_if_best(study, trial.number, trial_dir, out, plan)
    shutil.rmtree(trial_dir, ignore_errors=True)


def run_workers(
    settings: TuneSettings, deadline: float, study: Any, trial_ended: Callable[[Any], None]
) -> None:
    """``settings.jobs`` worker processes, each with 1/jobs of the CPU threads; the main
    process prints each trial as it finishes."""
    from optuna.trial import TrialState

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    threads = max(1, (cores or 1) // settings.jobs)
    context = multiprocessing.get_context("spawn")  # no forked torch or SQLite state
    workers = [
        context.Process(
            target=work, args=(settings, deadline, threads, os.getpid()), kwargs={"worker": index}
        )
        for index in range(settings.jobs)
    ]
    for worker in workers:
        worker.start()
    ended = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)
    seen = {t.number for t in study.get_trials(deepcopy=False, states=ended)}
    while True:
        running = any(worker.is_alive() for worker in workers)
        for trial in study.get_trials(deepcopy=False, states=ended):
            if trial.number not in seen:
                seen.add(trial.number)
                trial_ended(trial)
        if not running:
            break
        time.sleep(POLL_SECONDS)
    failed = [worker.exitcode for worker in workers if worker.exitcode != 0]
    if failed:
        raise TrainingError(
            f"{len(failed)} of {settings.jobs} tuning workers failed (exit codes {failed}); "
            "rerun the same command to continue the study"
        )


def summarise(study: Any, plan: Plan, out: Path, restarted: list[int]) -> TuneResult:
    from optuna.trial import TrialState

    counts: dict[str, int] = {}
    for trial in study.get_trials(deepcopy=False):
        counts[trial.state.name] = counts.get(trial.state.name, 0) + 1
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    best = study.best_trial if complete else None
    return TuneResult(
        counts, best.number if best else None, float(best.value) if best else None,
        plan.monitor, out, restarted,
    )  # fmt: skip
