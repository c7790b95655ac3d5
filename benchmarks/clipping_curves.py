"""Training loss with and without gradient clipping on the adding problem (docs/gradients.md).

Trains the same model (same seed, same batches) twice — global-norm clipping at
``--clip-norm`` and none — and plots the training loss and the gradient norm before clipping
at every step. Writes a PNG and a JSON file of both curves.

    python benchmarks/clipping_curves.py --cell rnn --length 50 --steps 600 \
        --out docs/img/clipping.png
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from rnnkit.diagnostics.long_range_training import LongRangeConfig, train_long_range


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cell", default="rnn")
    parser.add_argument("--init", default="default")
    parser.add_argument("--length", type=int, default=50)
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--learning-rate", type=float, default=1e-2)
    parser.add_argument("--clip-norm", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/clipping.png"))
    return parser.parse_args()


def smooth(values: list[float], window: int = 20) -> np.ndarray:
    """Running mean over ``window`` steps (NaN and infinity kept visible as gaps)."""
    array = np.asarray(values, dtype=float)
    kernel = np.ones(window) / window
    return np.convolve(array, kernel, mode="valid") if len(array) >= window else array


def main() -> None:
    arguments = parse_arguments()
    torch.set_num_threads(arguments.threads)
    runs = {}
    for label, clip in (("clipped", arguments.clip_norm), ("not clipped", None)):
        config = LongRangeConfig(
            learning_rate=arguments.learning_rate,
            clip_norm=clip,
            init=arguments.init,
            eval_every=arguments.steps,
        )
        runs[label] = train_long_range(
            arguments.cell, arguments.length, arguments.steps, arguments.seed, config
        )
        print(f"{label}: final held-out MSE {runs[label].final:.4f}", flush=True)
    plot(runs, arguments)
    data = {label: result.to_dict() for label, result in runs.items()}
    json_path = arguments.out.with_suffix(".json")
    json_path.write_text(json.dumps(data, indent=2) + "\n")
    print(f"wrote {arguments.out} and {json_path}")


def plot(runs: dict, arguments: argparse.Namespace) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, (loss_axes, norm_axes) = pyplot.subplots(1, 2, figsize=(9, 3.6), dpi=90)
    for label, result in runs.items():
        loss_axes.plot(smooth(result.train_loss), label=label)
        norm_axes.plot(result.grad_norm, label=label, linewidth=0.7)
    loss_axes.axhline(1 / 6, color="gray", linestyle=":", label="baseline 1/6")
    loss_axes.set(xlabel="step", ylabel="training MSE (20-step mean)", yscale="log")
    norm_axes.set(xlabel="step", ylabel="gradient norm before clipping", yscale="log")
    loss_axes.legend()
    figure.suptitle(
        f"{arguments.cell} (init {arguments.init}), adding problem T={arguments.length}, "
        f"AdamW lr {arguments.learning_rate}, clip {arguments.clip_norm}"
    )
    figure.tight_layout()
    arguments.out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(arguments.out)
    pyplot.close(figure)


if __name__ == "__main__":
    main()
