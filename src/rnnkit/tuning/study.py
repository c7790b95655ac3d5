"""The Optuna study of a search: opened (or continued) in its storage, with the default recipe
as trial 0, killed trials restarted, and the time budget kept across runs.

Why trials carry their host and process id: after ``kill -9`` a trial stays RUNNING in the
storage forever. A rerun on the same machine sees that its process is gone, marks it failed
and queues its parameters again, so a killed trial is restarted and finished ones are never
redone. (A trial running in a live process, on this machine or another, is left alone.)
"""

from __future__ import annotations

import fcntl
import json
import os
import random
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rnnkit.errors import ConfigError
from rnnkit.tuning.pruners import build_pruner
from rnnkit.tuning.settings import Plan, TuneSettings
from rnnkit.tuning.space import default_params

BUDGET_FILE = "budget.json"
HOST = socket.gethostname()


def open_study(plan: Plan, settings: TuneSettings, worker: int = 0) -> Any:
    """The study in ``plan.storage``, created on first use with the TPE sampler and the
    pruner of ``settings``, as worker process number ``worker`` of the search sees it (its
    sampler seeded by `sampler_seed`); raises ``ConfigError`` when the storage URL cannot be
    opened."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)  # rnnkit prints one line per trial
    study = optuna.create_study(
        storage=open_storage(plan), sampler=build_sampler(settings.seed),
        pruner=build_pruner(settings), study_name=plan.study_name, direction=plan.direction,
        load_if_exists=True,
    )  # fmt: skip
    started = [t for t in study.get_trials(deepcopy=False) if t.state.name != "WAITING"]
    seed = sampler_seed(settings.seed, worker, len(started))
    if seed != settings.seed:
        study.sampler = build_sampler(seed)
    return study


def sampler_seed(seed: int, worker: int, started: int) -> int:
    """The sampler's seed in one worker process: ``seed`` itself in the first worker of a
    study no trial has started in, so one search with one seed is repeatable; otherwise a
    seed drawn from (``seed``, ``worker``, ``started`` trials). The sampler draws its first
    five trials at random from its seed, so workers sharing one seed, or a resumed search
    reusing it, would propose the trials already proposed again."""
    if (worker, started) == (0, 0):
        return seed
    return random.Random(f"{seed}/{worker}/{started}").getrandbits(31)


def build_sampler(seed: int) -> Any:
    """TPE, after five random start-up trials, over the space's settings jointly."""
    import optuna

    return optuna.samplers.TPESampler(
        seed=seed, n_startup_trials=5, multivariate=True,
        constant_liar=True,  # parallel workers do not all propose the same point
    )  # fmt: skip


def open_storage(plan: Plan, attempts: int = 3) -> Any:
    """Optuna's database storage at ``plan.storage``. Processes started together may race to
    create its tables; the loser finds them made and tries again."""
    import optuna

    for attempt in range(attempts):
        try:
            return optuna.storages.RDBStorage(plan.storage, engine_kwargs=engine_kwargs(plan))
        except Exception as error:  # sqlalchemy's: a bad URL, a server down, a table race
            failure = str(error).splitlines()[0]
            time.sleep(0.5 * (attempt + 1))
    raise ConfigError(f"--storage {plan.storage!r} cannot be opened: {failure}")


def engine_kwargs(plan: Plan) -> dict[str, Any]:
    """SQLite: wait up to a minute for a lock, since worker processes write to one file."""
    return {"connect_args": {"timeout": 60}} if plan.storage.startswith("sqlite") else {}


@contextmanager
def starting(storage: str) -> Iterator[None]:
    """On an SQLite file, one process at a time: processes started together on one study
    (``--jobs``, or ``--storage`` shared) then queue the base recipe once, not once each, and
    never pop the same queued trial. On a database server two processes started in the same
    instant may each queue it."""
    if not storage.startswith("sqlite:///"):
        yield
        return
    with open(storage.removeprefix("sqlite:///") + ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file closes
        yield


def start_study(study: Any, plan: Plan, trials_dir: Path) -> list[int]:
    """Queues the base recipe as trial 0 of a new study and restarts the trials of dead
    processes on this machine; returns the numbers of the trials restarted."""
    with starting(plan.storage):
        if not study.trials:
            defaults = default_params(plan.space, plan.base)
            study.enqueue_trial(defaults, user_attrs={"recipe": "defaults"}, skip_if_exists=True)
    import optuna

    restarted = []
    for trial in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        attrs = trial.user_attrs
        if attrs.get("host") != HOST or process_alive(attrs.get("pid")):
            continue
        study.tell(trial.number, state=optuna.trial.TrialState.FAIL)
        study.enqueue_trial(trial.params, user_attrs={"restart_of": trial.number})
        remove_tree(trials_dir / str(trial.number))
        restarted.append(trial.number)
    return restarted


def process_alive(pid: Any) -> bool:
    if not isinstance(pid, int):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process has that id: alive
        return True
    return True


def remove_tree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


def counted_trials(study: Any) -> int:
    """Trials that count against ``--trials``: finished, pruned, running, or failed with an
    error (not those failed because their process was killed: they are run again)."""
    from optuna.trial import TrialState

    states: Sequence[Any] = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING)
    count = len(study.get_trials(deepcopy=False, states=states))
    failed = study.get_trials(deepcopy=False, states=(TrialState.FAIL,))
    return count + sum("error" in trial.user_attrs for trial in failed)


class BudgetClock:
    """The search's wall-clock budget, kept in ``DIR/budget.json`` so that a rerun after a
    kill gets only what is left; a thread saves the time spent every few seconds."""

    SAVE_EVERY = 2.0  # seconds between saves: what a kill -9 can lose of the account

    def __init__(self, out: Path, minutes: float) -> None:
        self.path = Path(out) / BUDGET_FILE
        spent = json.loads(self.path.read_text())["spent_seconds"] if self.path.exists() else 0
        self.total = minutes * 60.0
        self.started = time.monotonic() - spent
        self.deadline = time.time() + self.total - spent  # wall time: workers share it
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._save_loop, daemon=True)

    def spent(self) -> float:
        return time.monotonic() - self.started

    def left(self) -> float:
        return max(0.0, self.total - self.spent())

    def __enter__(self) -> BudgetClock:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.save()

    def _save_loop(self) -> None:
        while not self._stop.wait(self.SAVE_EVERY):
            self.save()

    def save(self) -> None:
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps({"spent_seconds": round(self.spent(), 1)}))
        temporary.replace(self.path)
