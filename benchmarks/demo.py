"""`rnnkit demo` end to end: wall time, dev accuracy and the answers to its two questions.

Runs the command as a user would (a fresh process: imports, training, dev evaluation, two
traced predictions), ``--repeats`` times, and writes ``benchmarks/results/demo.json`` (one row
per run) with the machine's load average around each run, since the machine is shared.

    python benchmarks/demo.py --repeats 3
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

import torch

import rnnkit
from record import write_json

COMMAND = [sys.executable, "-m", "rnnkit", "demo", "--no-progress", "--out"]
ACCURACY = re.compile(r"^dev accuracy (\d\.\d+) \(epoch (\d+)\)", re.MULTILINE)
ANSWER = re.compile(r"^'(.+)' → (\w+) (\d\.\d+)", re.MULTILINE)


def run_demo(run: int) -> dict:
    """One ``rnnkit demo`` in a fresh process; its wall time and what it printed."""
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="rnnkit-demo-bench-") as scratch:
        start = time.perf_counter()
        process = subprocess.run(
            [*COMMAND, f"{scratch}/model"], capture_output=True, text=True, check=True
        )
        seconds = time.perf_counter() - start
    accuracy = ACCURACY.search(process.stdout)
    if accuracy is None:
        raise RuntimeError(f"rnnkit demo printed no dev accuracy:\n{process.stdout}")
    return {
        "run": run,
        "wall_seconds": round(seconds, 2),
        "dev_accuracy": float(accuracy.group(1)),
        "best_epoch": int(accuracy.group(2)),
        "answers": {q: [label, float(p)] for q, label, p in ANSWER.findall(process.stdout)},
        "load_average_before": load_before,
        "load_average_after": os.getloadavg()[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=3)
    arguments = parser.parse_args()
    rows = []
    for run in range(arguments.repeats):
        rows.append(run_demo(run))
        print(rows[-1], flush=True)
    path = write_json(
        "demo",
        {
            "command": "rnnkit demo --no-progress --out <temporary folder>",
            "torch": torch.__version__,
            "rnnkit": rnnkit.__version__,
            "threads": torch.get_num_threads(),
            "rows": rows,
        },
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
