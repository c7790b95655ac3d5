"""``rnnkit diagnose``: see gradients vanish or explode, and what that does to long-range tasks."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rnnkit.cli.options import EncodingErrors

GRADIENTS_EXAMPLE = (
    "Example: rnnkit diagnose gradients --cells rnn,lstm,gru --length 100 --out runs/gradients"
    " ; a trained model: rnnkit diagnose gradients runs/intent --data dev.csv --out runs/flow"
)
LONG_RANGE_EXAMPLE = (
    "Example: rnnkit diagnose long-range --cells rnn,lstm,gru --lengths 10,50,100 --steps 500"
)

app = typer.Typer(
    help="Per-time-step gradient flow and long-range experiments (vanishing/exploding gradients).",
    no_args_is_help=True,
)

CELLS_HELP = "Comma-separated cells: rnn (tanh), rnn_relu, lstm, gru."
INIT_HELP = "Initialisation: default, orthogonal, irnn, forget-bias-1 (join with '+')."


@app.command(epilog=GRADIENTS_EXAMPLE)
def gradients(
    out: Annotated[
        Path, typer.Option(help="Directory for gradients.png, gradients.json and gradients.md.")
    ],
    model_dir: Annotated[
        Path | None,
        typer.Argument(help="A trained model directory of any task (else: --cells models)."),
    ] = None,
    data: str = typer.Option(None, help="Data for MODEL_DIR, in the layout its task trains on."),
    examples: int = typer.Option(64, help="With MODEL_DIR: how many examples of --data to use."),
    encoding_errors: EncodingErrors = "strict",
    cells: str = typer.Option("rnn,lstm,gru", help=CELLS_HELP),
    length: int = typer.Option(100, help="T, steps of the adding-problem sequences."),
    hidden_size: int = typer.Option(32, help="H, hidden size of every model."),
    init: str = typer.Option("default", help=INIT_HELP),
    train_steps: int = typer.Option(
        0, help="Train each model this many steps first (0: untrained)."
    ),
    batch_size: int = typer.Option(32, help="Sequences in the measured batch."),
    seed: int = typer.Option(0, help="Seed for weights and data."),
) -> None:
    """Measure ‖∂L/∂h_t‖ at every step for each cell on the adding problem.

    Writes a log-scale plot against the distance from the loss (gradients.png), the norms
    (gradients.json) and a markdown table (gradients.md) with a verdict per cell: healthy,
    vanishing or exploding (ratio of the farthest to the nearest step's norm below 1e-3,
    above 1e3, or non-finite). With MODEL_DIR, measures a trained model of any task on
    --data; for models with a loss at every step (tagger, joint, language model, translator)
    it differentiates the loss at one step, so the ratio measures propagation through time,
    and compares the norms over at most 5 steps back, the context a per-step loss uses.
    """
    from rich.console import Console

    from rnnkit.diagnostics.experiments import adding_gradient_flow, parse_cells
    from rnnkit.diagnostics.long_range_training import LongRangeConfig
    from rnnkit.diagnostics.report import gradient_table, write_gradient_report

    if model_dir is not None:
        flows, title, settings = trained_model_flow(model_dir, data, examples, encoding_errors)
        paths = write_gradient_report(flows, out, title, settings)
        Console().print(rich_table(gradient_table(flows), title))
        typer.echo(f"wrote {paths['png']}, {paths['json']}, {paths['md']}")
        return
    names = parse_cells(cells)
    config = LongRangeConfig(hidden_size=hidden_size, init=init)
    flows = {
        cell: adding_gradient_flow(cell, length, seed, config, train_steps, batch_size)
        for cell in names
    }
    settings = {
        "task": "adding",
        "length": length,
        "hidden_size": hidden_size,
        "init": init,
        "train_steps": train_steps,
        "batch_size": batch_size,
        "seed": seed,
    }
    title = f"Gradient flow, adding problem T={length}, " + (
        f"after {train_steps} training steps" if train_steps else "untrained"
    )
    paths = write_gradient_report(flows, out, title, settings)
    Console().print(rich_table(gradient_table(flows), title))
    typer.echo(f"wrote {paths['png']}, {paths['json']}, {paths['md']}")


def trained_model_flow(model_dir: Path, data: str | None, examples: int, encoding_errors: str):
    """The gradient flow of a trained model of any task on the first ``examples`` of ``data``
    (bytes that are not UTF-8: an error, or U+FFFD with ``encoding_errors="replace"``)."""
    from rnnkit import api
    from rnnkit.errors import ConfigError
    from rnnkit.tasks import TASKS

    if data is None:
        raise ConfigError("--data is required with MODEL_DIR: labelled examples to measure on")
    predictor = api.load(model_dir)
    measure = TASKS.get(predictor.task).gradient_flow
    if measure is None:
        raise ConfigError(
            f"{model_dir}: gradient diagnostics do not exist yet for a {predictor.task!r} model"
        )
    flow, measured = measure(predictor, data, examples, encoding_errors)
    config = predictor.model.config
    cell = getattr(config, "cell", None) or f"{config.encoder.cell}/{config.decoder.cell}"
    settings = {
        "model_dir": str(model_dir),
        "task": predictor.task,
        "data": data,
        "examples": measured,  # those the model could score
        "cell": cell,
    }
    title = f"Gradient flow of {model_dir.name} ({predictor.task}, {cell}) on {data}"
    return {model_dir.name: flow}, title, settings


@app.command(name="long-range", epilog=LONG_RANGE_EXAMPLE)
def long_range(
    cells: str = typer.Option("rnn,lstm,gru", help=CELLS_HELP),
    lengths: str = typer.Option("10,50,100,200", help="Comma-separated sequence lengths T."),
    steps: int = typer.Option(500, help="Training steps per cell and length."),
    hidden_size: int = typer.Option(32, help="H, hidden size of every model."),
    batch_size: int = typer.Option(32, help="Fresh sequences per training step."),
    learning_rate: float = typer.Option(1e-2, help="AdamW learning rate."),
    clip_norm: float = typer.Option(1.0, help="Clip the global gradient norm to this (0: off)."),
    init: str = typer.Option("default", help=INIT_HELP),
    seed: int = typer.Option(0, help="Seed for weights and data."),
    out: Annotated[
        Path | None, typer.Option(help="Write every run's curves to this JSON file.")
    ] = None,
) -> None:
    """Train each cell briefly on the adding problem at each length; print MSE against T.

    The held-out MSE of always predicting the mean is 1/6 ≈ 0.167; a cell that carries the
    two marked values across T steps gets close to 0.
    """
    from rich.console import Console

    from rnnkit.diagnostics.experiments import long_range_sweep, parse_cells, parse_lengths
    from rnnkit.diagnostics.long_range_training import LongRangeConfig
    from rnnkit.diagnostics.report import sweep_rows, write_sweep_json
    from rnnkit.errors import ConfigError

    names, sizes = parse_cells(cells), parse_lengths(lengths)
    if clip_norm < 0:
        raise ConfigError(f"clip-norm: expected a number >= 0 (0: off), got {clip_norm!r}")
    config = LongRangeConfig(
        hidden_size=hidden_size,
        batch_size=batch_size,
        learning_rate=learning_rate,
        clip_norm=clip_norm or None,
        init=init,
        eval_every=max(steps, 1),
    )
    console = Console()
    results = long_range_sweep(
        names,
        sizes,
        steps,
        seed,
        config,
        on_result=lambda r: console.print(f"{r.cell} T={r.length}: mse {r.final:.4f}"),
    )
    title = f"Adding problem: held-out MSE after {steps} steps (baseline 0.167)"
    console.print(rich_table(sweep_rows(results), title))
    if out is not None:
        typer.echo(f"wrote {write_sweep_json(results, out)}")


def rich_table(rows: list[dict], title: str):
    """A rich table of rows of dicts with the same keys; floats in 3 significant digits."""
    from rich.table import Table

    table = Table(title=title)
    for column in rows[0]:
        table.add_column(str(column))
    for row in rows:
        table.add_row(*(f"{v:.3g}" if isinstance(v, float) else str(v) for v in row.values()))
    return table
