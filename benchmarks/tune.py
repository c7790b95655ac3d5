"""``rnnkit tune TASK`` on a shared data set within a budget: how many trials finish, and
how the best compares with trial 0 (the default recipe).

Writes one row per (task, dataset, budget, jobs) into
``benchmarks/results/tune.json``, the search's trials into
``benchmarks/results/tune-<dataset>-<budget>min-jobs<J>.csv`` (``tune-<task>-…`` for a task
other than classify), its best recipe into ``…-best.yaml`` beside it (``rnnkit train TASK
--config`` reads it; the data paths in it are this machine's) and its plots into
``…-history.png`` and ``…-importances.png``. The search itself runs in a
temporary folder, removed afterwards. The data sets are those of ``recipes.py`` for the task,
under ``$RNNKIT_DATA`` (default ``../shared/data``).

Usage (hold the shared CPU lock, nothing else running)::

    python benchmarks/tune.py --dataset names --budget-minutes 15 --jobs 1
    python benchmarks/tune.py --dataset names --budget-minutes 3 --jobs 2
    python benchmarks/tune.py --dataset names --budget-minutes 15 --jobs 2 --pruner time
    python benchmarks/tune.py --task joint --dataset atis --budget-minutes 30 \
        --set trainer.monitor=f1          # score every trial on slot F1
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import optuna
from optuna.trial import TrialState

from paths import SHARED_DATA
from recipes import TASKS
from record import add_results_dir, write_json
from rnnkit.tuning.results import HISTORY_PNG, IMPORTANCES_PNG

REPOSITORY = Path(__file__).resolve().parents[1]


def run(args: argparse.Namespace) -> dict:
    with tempfile.TemporaryDirectory(prefix="tune-") as folder:
        return search(args, Path(folder) / "search")


def search(args: argparse.Namespace, out: Path) -> dict:
    """Runs the search in ``out`` (a temporary folder) and keeps its trials and best recipe."""
    train, dev = (args.data / path for path in TASKS[args.task].datasets[args.dataset])
    command = [
        sys.executable, "-m", "rnnkit", "tune", args.task, "--train", str(train),
        "--dev", str(dev), "--out", str(out), "--budget-minutes", f"{args.budget_minutes:g}",
        "--jobs", str(args.jobs), "--no-progress",
        *(["--trials", str(args.trials)] if args.trials else []),
        *(["--seed", str(args.seed)] if args.seed is not None else []),
        *(["--pruner", args.pruner] if args.pruner else []),
        *(option for override in args.overrides for option in ("--set", override)),
    ]  # fmt: skip
    started = time.perf_counter()
    subprocess.run(command, check=True)
    seconds = time.perf_counter() - started
    storage = f"sqlite:///{out / 'study.db'}"
    study = optuna.load_study(study_name=f"rnnkit-{args.task}", storage=storage)
    trials = study.get_trials()
    states = {state.name: sum(t.state == state for t in trials) for state in TrialState}
    prefix = "tune" if args.task == "classify" else f"tune-{args.task}"
    name = f"{prefix}-{args.dataset}-{args.budget_minutes:g}min-jobs{args.jobs}"
    args.results_dir.mkdir(parents=True, exist_ok=True)
    trials_csv = args.results_dir / f"{name}.csv"
    shutil.copy(out / "trials.csv", trials_csv)
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    best = study.best_trial if complete else None
    best_yaml = args.results_dir / f"{name}-best.yaml"
    if best:
        shutil.copy(out / "best.yaml", best_yaml)
    plots = [out / png for png in (HISTORY_PNG, IMPORTANCES_PNG) if (out / png).exists()]
    for plot in plots:
        shutil.copy(plot, args.results_dir / f"{name}-{plot.name}")
    return {
        "task": args.task,
        "dataset": args.dataset,
        "budget_minutes": args.budget_minutes,
        "jobs": args.jobs,
        "seed": args.seed,
        "pruner": args.pruner,
        "overrides": args.overrides,
        "wall_seconds": round(seconds, 1),
        "trials": {state: count for state, count in states.items() if count},
        "finished": states["COMPLETE"] + states["PRUNED"],
        "defaults_dev": trials[0].value if trials and trials[0].value is not None else None,
        "best_dev": best.value if best else None,
        "best_trial": best.number if best else None,
        "best_params": best.params if best else None,
        "trials_csv": os.path.relpath(trials_csv.resolve(), REPOSITORY),
        "best_yaml": os.path.relpath(best_yaml.resolve(), REPOSITORY) if best else None,
        "command": " ".join(["rnnkit", *command[3:]]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", choices=sorted(TASKS), default="classify")
    parser.add_argument("--dataset", default="names", help="a data set of the task's sweep")
    parser.add_argument("--data", type=Path, default=SHARED_DATA, help="the data sets' folder")
    parser.add_argument("--budget-minutes", type=float, default=15)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--trials", type=int, help="stop after this many trials")
    parser.add_argument("--seed", type=int, help="the search's seed (default: rnnkit tune's)")
    parser.add_argument("--pruner", help="median, halving or time (default: rnnkit tune's)")
    parser.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
        help="a base-recipe override passed to rnnkit tune (repeatable)",
    )  # fmt: skip
    add_results_dir(parser)
    args = parser.parse_args()
    if args.dataset not in TASKS[args.task].datasets:
        known = ", ".join(TASKS[args.task].datasets)
        parser.error(f"--dataset {args.dataset!r} is not a {args.task} data set ({known})")
    row = run(args)
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, torch threads default"
    path = write_json(
        "tune", {"machine": machine, "rows": [row]},
        key=("task", "dataset", "budget_minutes", "jobs"), results=args.results_dir,
    )  # fmt: skip
    print(row)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
