"""Benchmark: the adding problem at long delays — LSTM and GRU learn it, the tanh RNN does not.

The target: at T=100 the LSTM and the GRU reach a held-out MSE below 0.01 within a few
minutes of CPU each, while the plain tanh RNN stays near the baseline 1/6 ≈ 0.167 (always
predicting the mean); T=200 reported too. Each run stops at the first evaluation below the
target, so the table shows the steps and the CPU time it took (or the last MSE if it never did).

    nice python benchmarks/long_range.py                       # the full benchmark
    python benchmarks/long_range.py --lengths 20 --max-steps 300  # a quick look

Prints a table and writes benchmarks/results/long_range.json.
"""

from __future__ import annotations

import argparse
import json
import platform
from pathlib import Path

import torch

from rnnkit.diagnostics.experiments import parse_cells, parse_lengths
from rnnkit.diagnostics.long_range_training import LongRangeConfig, train_long_range

RESULTS = Path(__file__).resolve().parent / "results" / "long_range.json"


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", default="rnn,lstm,gru")
    parser.add_argument("--lengths", default="100,200")
    parser.add_argument("--max-steps", type=int, default=3000)
    parser.add_argument("--target", type=float, default=0.01, help="stop below this MSE")
    parser.add_argument("--hidden-size", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=1e-2)
    parser.add_argument("--clip-norm", type=float, default=1.0)
    parser.add_argument("--init", default="default")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1: steadier)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    return parser.parse_args()


def main() -> None:
    arguments = parse_arguments()
    torch.set_num_threads(arguments.threads)
    config = LongRangeConfig(
        hidden_size=arguments.hidden_size,
        batch_size=arguments.batch_size,
        learning_rate=arguments.learning_rate,
        clip_norm=arguments.clip_norm or None,
        init=arguments.init,
        eval_every=100,
        eval_samples=1000,
        stop_at=arguments.target,
    )
    rows = []
    for length in parse_lengths(arguments.lengths):
        for cell in parse_cells(arguments.cells):
            result = train_long_range(cell, length, arguments.max_steps, arguments.seed, config)
            reached = result.final < arguments.target
            rows.append(
                {
                    "cell": cell,
                    "T": length,
                    "reached": reached,
                    "steps": result.eval_steps[-1],
                    "mse": result.final,
                    "best_mse": min(result.eval_metric),
                    "cpu_s": round(result.cpu_seconds, 1),
                    "wall_s": round(result.seconds, 1),
                    "eval_steps": result.eval_steps,
                    "eval_mse": result.eval_metric,
                }
            )
            print(format_row(rows[-1]), flush=True)
    print_table(rows, arguments.target)
    arguments.out.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "benchmark": "long_range",
        "task": "adding",
        "target_mse": arguments.target,
        "baseline_mse": 1 / 6,
        "config": vars(arguments) | {"out": str(arguments.out)},
        "machine": {"processor": platform.processor(), "torch": torch.__version__},
        "runs": rows,
    }
    arguments.out.write_text(json.dumps(document, indent=2) + "\n")
    print(f"wrote {arguments.out}")


def format_row(row: dict) -> str:
    status = f"MSE < target after {row['steps']} steps" if row["reached"] else "not reached"
    return (
        f"{row['cell']:>4} T={row['T']:<4} {status:<32} mse {row['mse']:.4f} "
        f"(best {row['best_mse']:.4f})  cpu {row['cpu_s']:.0f} s  wall {row['wall_s']:.0f} s"
    )


def print_table(rows: list[dict], target: float) -> None:
    print(f"\n| cell | T | MSE < {target} | steps | final MSE | best MSE | CPU s | wall s |")
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(
            f"| {row['cell']} | {row['T']} | {'yes' if row['reached'] else 'no'} | "
            f"{row['steps']} | {row['mse']:.4f} | {row['best_mse']:.4f} | {row['cpu_s']} | "
            f"{row['wall_s']} |"
        )


if __name__ == "__main__":
    main()
