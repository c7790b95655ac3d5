"""Reports of the diagnostics: a log-scale plot, a markdown table and JSON.

A report takes ``flows: {label: GradientFlow}`` — one entry per cell type of a controlled
experiment, or one for a trained model — so any source of a `GradientFlow` plugs in.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from rnnkit.diagnostics.gradients import DirectionFlow, GradientFlow
from rnnkit.diagnostics.long_range_training import LongRangeResult
from rnnkit.metrics.plotting import headless_pyplot


def line_label(label: str, flow: GradientFlow, direction: DirectionFlow) -> str:
    """``label`` alone when the flow has one direction, else ``label (module/l0_reverse)``."""
    return label if len(flow.directions) == 1 else f"{label} ({direction.name})"


def plot_gradient_flow(flows: Mapping[str, GradientFlow], path: Path, title: str) -> Path:
    """``‖∂L/∂h_t‖`` against the distance from the loss, log scale, one line per direction.

    Distance ``d`` is ``T - 1 - index`` (with the default end alignment: steps before each
    sequence's last step). Non-finite or zero norms are left out of the line.
    """
    pyplot = headless_pyplot()

    figure, axes = pyplot.subplots(figsize=(6.4, 4.0), dpi=100)
    try:
        for label, flow in flows.items():
            for direction in flow.directions:
                norms = direction.h_norms
                distance = np.arange(len(norms))[::-1]
                shown = np.isfinite(norms) & (norms > 0)
                axes.plot(distance[shown], norms[shown], label=line_label(label, flow, direction))
        axes.set_yscale("log")
        axes.set_xlabel("distance from the loss (steps)")
        axes.set_ylabel("mean ‖∂L/∂h_t‖")
        axes.set_title(title)
        axes.grid(True, which="major", alpha=0.3)
        axes.legend()
        figure.tight_layout()
        figure.savefig(path)
    finally:
        pyplot.close(figure)
    return path


def gradient_table(flows: Mapping[str, GradientFlow]) -> list[dict]:
    """One row per line of the plot: norms at the loss and farthest from it, the ratio (over
    ``steps``: the whole sequence, or the flow's horizon), the verdict."""
    rows = []
    for label, flow in flows.items():
        for direction in flow.directions:
            reached = direction.h_norms[~np.isnan(direction.h_norms)]
            if not len(reached):  # NaN everywhere: the forward pass itself overflowed
                reached = np.array([math.nan])
            rows.append(
                {
                    "model": line_label(label, flow, direction),
                    "T": len(direction.h_norms),
                    "at the loss": float(reached[-1]),
                    "farthest": float(reached[0]),
                    "ratio": direction.ratio,
                    "steps": direction.distance,
                    "verdict": direction.verdict,
                }
            )
    return rows


def verdict_lines(flows: Mapping[str, GradientFlow]) -> str:
    """One line per model: its verdict and the layer and direction (and ratio) that gave it."""
    return "".join(
        f"- {label}: {flow.verdict}, from {flow.deciding.name} "
        f"(ratio {format_number(flow.deciding.ratio)} over {flow.deciding.distance} steps)\n"
        for label, flow in flows.items()
    )


def format_number(value: float) -> str:
    return f"{value:.2e}" if math.isfinite(value) else str(value)


def markdown_table(rows: list[dict]) -> str:
    """Rows of dicts with the same keys as a GitHub markdown table."""
    header = list(rows[0])
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        cells = [format_number(v) if isinstance(v, float) else str(v) for v in row.values()]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_gradient_report(
    flows: Mapping[str, GradientFlow], out_dir: Path, title: str, settings: dict
) -> dict[str, Path]:
    """Writes ``gradients.json``, ``gradients.md`` and ``gradients.png`` into ``out_dir``.

    ``settings`` (the command's options) is stored in the JSON and the markdown.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {name: out_dir / f"gradients.{name}" for name in ("json", "md", "png")}
    document = {"settings": settings, "models": {k: f.to_dict() for k, f in flows.items()}}
    paths["json"].write_text(json.dumps(document, indent=2, allow_nan=False) + "\n")
    options = ", ".join(f"{key}={value}" for key, value in settings.items())
    paths["md"].write_text(
        f"# {title}\n\n{options}\n\n{verdict_lines(flows)}\n"
        + markdown_table(gradient_table(flows)),
        encoding="utf-8",
    )
    plot_gradient_flow(flows, paths["png"], title)
    return paths


def sweep_rows(results: list[LongRangeResult]) -> list[dict]:
    """One row per run: cell, T, steps, final metric, the baseline, seconds."""
    return [
        {
            "cell": result.cell,
            "T": result.length,
            "steps": result.eval_steps[-1],
            result.metric: result.final,
            "baseline": result.baseline,
            "seconds": round(result.seconds, 1),
        }
        for result in results
    ]


def write_sweep_json(results: list[LongRangeResult], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {"runs": [result.to_dict() for result in results]}
    path.write_text(json.dumps(document, indent=2, allow_nan=False) + "\n")
    return path
