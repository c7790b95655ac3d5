"""``rnnkit tune classify`` on a shared data set within a budget: how many trials finish, and
how the best compares with trial 0 (the default recipe).

Writes one row per (dataset, budget, jobs) into ``benchmarks/results/tune.json`` and the
search's trials into ``benchmarks/results/tune-<dataset>-<budget>min-jobs<J>.csv``.

Usage (hold the shared CPU lock, nothing else running)::

    python benchmarks/tune.py --dataset names --budget-minutes 15 --jobs 1
    python benchmarks/tune.py --dataset names --budget-minutes 3 --jobs 2
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

from record import RESULTS, write_json

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def run(folder: Path, budget: float, jobs: int) -> dict:
    dataset = folder.name
    out = Path(tempfile.mkdtemp(prefix="tune-")) / "search"
    command = [
        sys.executable, "-m", "rnnkit", "tune", "classify",
        "--train", str(folder / "train.tsv"), "--dev", str(folder / "dev.tsv"),
        "--out", str(out), "--budget-minutes", f"{budget:g}", "--jobs", str(jobs),
        "--no-progress",
    ]  # fmt: skip
    started = time.perf_counter()
    subprocess.run(command, check=True)
    seconds = time.perf_counter() - started
    study = optuna.load_study(study_name="rnnkit-classify", storage=f"sqlite:///{out / 'study.db'}")
    trials = study.get_trials()
    states = {state.name: sum(t.state == state for t in trials) for state in TrialState}
    name = f"tune-{dataset}-{budget:g}min-jobs{jobs}"
    shutil.copy(out / "trials.csv", RESULTS / f"{name}.csv")
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    best = study.best_trial if complete else None
    return {
        "dataset": dataset,
        "budget_minutes": budget,
        "jobs": jobs,
        "wall_seconds": round(seconds, 1),
        "trials": {state: count for state, count in states.items() if count},
        "finished": states["COMPLETE"] + states["PRUNED"],
        "defaults_dev": trials[0].value if trials and trials[0].value is not None else None,
        "best_dev": best.value if best else None,
        "best_trial": best.number if best else None,
        "best_params": best.params if best else None,
        "trials_csv": f"benchmarks/results/{name}.csv",
        "command": " ".join(["rnnkit", *command[3:]]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="names")
    parser.add_argument("--data", type=Path, default=DATA, help="the shared data sets' folder")
    parser.add_argument("--budget-minutes", type=float, default=15)
    parser.add_argument("--jobs", type=int, default=1)
    args = parser.parse_args()
    row = run(args.data / args.dataset, args.budget_minutes, args.jobs)
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, torch threads default"
    path = write_json(
        "tune", {"machine": machine, "rows": [row]}, key=("dataset", "budget_minutes", "jobs")
    )
    print(row)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
