"""Mutation testing of chosen modules with their unit tests (mutmut): a benchmark, not CI.

mutmut changes one small thing in the code at a time (``<`` to ``<=``, a constant, a dropped
call, ...) and reruns the tests that reach it; a mutant the tests still pass on "survived".
The score is killed / (killed + survived + timeouts + suspicious); mutants no test reaches are
counted apart. The run happens in a scratch copy of ``src/``, ``tests/`` and
``pyproject.toml`` (mutmut writes its ``mutants/`` folder there, never here), and writes
``benchmarks/results/mutation.json``: one row per module (a rerun replaces that module's row)
with the surviving mutants' diffs, for reading and explaining them.

CPU-heavy (the tests run once per mutant): run it niced and alone; it stops mutmut after
``--minutes`` (the mutants left are "not checked"):

    pip install -e '.[mutation]'
    nice -n 19 python benchmarks/mutation.py data/vocab.py data/bio.py data/batching.py
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from record import write_json

ROOT = Path(__file__).resolve().parents[1]
MODULE_TESTS = {  # module under src/rnnkit/ -> the unit tests that exercise it
    "data/vocab.py": ["tests/data/test_vocab.py"],
    "data/bio.py": ["tests/data/test_bio.py"],
    "data/batching.py": ["tests/data/test_batching.py"],
    "nn/cells.py": ["tests/nn/test_cells.py", "tests/nn/test_cells_exact.py"],  # not parity: slow
    "nn/masking.py": ["tests/nn/test_masking.py"],  # fast and exact; the layers use it too
    "nn/fused.py": [
        "tests/nn/test_layers.py",
        "tests/nn/test_parity.py",
        "tests/nn/test_dropout.py",
    ],
    "nn/crf.py": ["tests/nn/test_crf.py", "tests/nn/test_crf_exact.py"],
    "models/decoding.py": ["tests/models/test_decoding.py", "tests/models/test_decoding_exact.py"],
}
RESULT_LINE = re.compile(r"^\s+(\S+__mutmut_\d+): (.+)$", re.MULTILINE)
NOT_KILLED = ("survived", "timeout", "suspicious")  # in the score's denominator
LISTED = (*NOT_KILLED, "no tests")  # written out with their diffs, to be explained


def mutmut_config(modules: list[str]) -> str:
    """The ``[tool.mutmut]`` table: mutate ``modules`` only, run only their tests."""
    tests = sorted({test for module in modules for test in MODULE_TESTS[module]})
    only = ", ".join(f'"src/rnnkit/{module}"' for module in modules)
    selection = ", ".join(f'"{test}"' for test in tests)
    return (
        f'\n[tool.mutmut]\nsource_paths = ["src"]\nonly_mutate = [{only}]\n'
        f'pytest_add_cli_args_test_selection = [{selection}]\npytest_add_cli_args = ["-q", "-x"]\n'
        "timeout_multiplier = 4.0\n"  # a mutant's wall limit: 4 x (its tests' time + 1 s)
    )


def module_of(mutant: str) -> str:
    """``rnnkit.data.vocab.x_encode__mutmut_3`` -> ``data/vocab.py``."""
    dotted = mutant.split(".x_")[0].split(".xǁ")[0]
    return dotted.removeprefix("rnnkit.").replace(".", "/") + ".py"


def summarise(module: str, statuses: dict[str, str], diffs: dict[str, str]) -> dict:
    """One module's row: counts by status, the score, and each mutant not killed."""
    mine = {name: status for name, status in statuses.items() if module_of(name) == module}
    counts: dict[str, int] = {}
    for status in mine.values():
        counts[status] = counts.get(status, 0) + 1
    killed = counts.get("killed", 0)
    checked = killed + sum(counts.get(status, 0) for status in NOT_KILLED)
    return {
        "module": f"src/rnnkit/{module}",
        "tests": MODULE_TESTS[module],
        "mutants": len(mine),
        "counts": counts,
        "score": round(100 * killed / checked, 1) if checked else None,
        "not_killed": {  # with the mutants no test reaches
            name: {"status": status, "diff": diffs.get(name, "")}
            for name, status in sorted(mine.items())
            if status in LISTED
        },
    }


def mutmut_output(scratch: Path, env: dict[str, str], *arguments: str) -> str:
    """What ``mutmut <arguments>`` prints in ``scratch``."""
    command = [sys.executable, "-m", "mutmut", *arguments]
    return subprocess.run(command, cwd=scratch, env=env, capture_output=True, text=True).stdout


def run_mutmut(
    modules: list[str], scratch: Path, max_children: int, minutes: float
) -> tuple[dict, dict, float]:
    """Runs mutmut in ``scratch`` for at most ``minutes`` (mutants left then stay "not
    checked"); returns status by mutant, diff by mutant not killed, seconds."""
    for name in ("src", "tests"):
        shutil.copytree(ROOT / name, scratch / name, ignore=shutil.ignore_patterns("__pycache__"))
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    (scratch / "pyproject.toml").write_text(pyproject + mutmut_config(modules), encoding="utf-8")
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    # mutmut forks once per mutant; torch's OpenMP thread pool does not survive a fork, so a
    # child that runs a threaded kernel hangs until its timeout. One thread each avoids it.
    env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    mutmut = [sys.executable, "-m", "mutmut", "run", "--max-children", str(max_children)]
    start = time.perf_counter()
    with subprocess.Popen(mutmut, cwd=scratch, env=env, stdout=subprocess.DEVNULL,
                          start_new_session=True) as process:  # fmt: skip
        try:
            process.wait(timeout=60 * minutes)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # mutmut and the mutant it is testing
            print(f"stopped after {minutes} minutes; the rest stays 'not checked'", flush=True)
    seconds = time.perf_counter() - start
    statuses = dict(RESULT_LINE.findall(mutmut_output(scratch, env, "results", "--all", "true")))
    diffs = {
        name: mutmut_output(scratch, env, "show", name)
        for name, status in statuses.items()
        if status in LISTED
    }
    return statuses, diffs, seconds


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("modules", nargs="+", choices=sorted(MODULE_TESTS))
    parser.add_argument("--max-children", type=int, default=1, help="parallel test processes")
    parser.add_argument("--minutes", type=float, default=13.0, help="stop mutmut after this")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rnnkit-mutation-") as scratch:
        statuses, diffs, seconds = run_mutmut(
            arguments.modules, Path(scratch), arguments.max_children, arguments.minutes
        )
    command = f"nice -n 19 python benchmarks/mutation.py {' '.join(arguments.modules)}"
    if arguments.minutes != parser.get_default("minutes"):
        command += f" --minutes {arguments.minutes:g}"
    run = {"command": command, "seconds": round(seconds, 1)}  # the run that made these rows
    rows = [{**summarise(module, statuses, diffs), **run} for module in arguments.modules]
    for row in rows:
        print(row["module"], row["counts"], f"score {row['score']} %", flush=True)
    path = write_json("mutation", {**run, "rows": rows}, key=("module",))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
