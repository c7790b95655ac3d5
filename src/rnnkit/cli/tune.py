"""``rnnkit tune TASK``: a time-budgeted hyper-parameter search around the task's defaults."""

from __future__ import annotations

from pathlib import Path

import typer

EXAMPLE = (
    "Example: rnnkit tune classify --train data/train.tsv --dev data/dev.tsv --out runs/tune "
    "--budget-minutes 60"
)


def tune(
    task: str = typer.Argument(..., help="A task name, as in rnnkit train TASK."),
    train: str = typer.Option(None, help="Training data (any layout the task reads)."),
    dev: str = typer.Option(
        None,
        help="Dev data: every trial is scored on it (without it, data.dev_holdout of the "
        "training data, the same examples in every trial).",
    ),
    out: Path = typer.Option(..., help="DIR: study.db, best/, best.yaml, trials.csv, plots."),
    budget_minutes: float = typer.Option(..., help="Wall-clock minutes for the whole search."),
    trials: int = typer.Option(None, help="Stop after this many trials (default: the budget)."),
    space: Path = typer.Option(None, help="YAML entries laid over the default search space."),
    jobs: int = typer.Option(1, help="Worker processes sharing the study (1/J threads each)."),
    seed: int = typer.Option(13, help="The sampler's seed: the same seed, the same proposals."),
    storage: str = typer.Option(
        None, help="A database URL Optuna accepts, shared by machines (default: DIR/study.db)."
    ),
    study_name: str = typer.Option(None, help="The study's name in --storage (rnnkit-TASK)."),
    pruner: str = typer.Option(
        "median",
        help="median (of earlier trials at the same epoch), halving (successive halving) or "
        "time (the median of earlier trials after as many seconds).",
    ),
    config: Path = typer.Option(None, help="The base recipe (a YAML/JSON train config)."),
    overrides: list[str] = typer.Option([], "--set", help="Override a base-recipe config key."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show the budget bar."),
) -> None:
    """Search learning rate, sizes, cell, pooling, dropouts, batch size and epochs around the
    task's default recipe (trial 0) within a time budget, with Optuna's TPE and pruning of
    poor trials after each epoch.

    Rerunning the same command continues the study, also after a kill; DIR/best is a model
    directory and DIR/best.yaml its recipe for rnnkit train TASK --config.
    """
    from rnnkit.tuning import TuneSettings
    from rnnkit.tuning import tune as run_search

    settings = TuneSettings(
        task=task, out=out, budget_minutes=budget_minutes, train=train, dev=dev, trials=trials,
        space_file=space, jobs=jobs, seed=seed, storage=storage, study_name=study_name,
        config_file=config, overrides=tuple(overrides), pruner=pruner, progress=progress,
    )  # fmt: skip
    result = run_search(settings)
    counts = ", ".join(f"{count} {state.lower()}" for state, count in sorted(result.trials.items()))
    typer.echo(f"trials: {counts}")
    if result.best_number is None:
        typer.echo("no trial finished within the budget")
        return
    typer.echo(
        f"best: trial {result.best_number}, dev {result.monitor} {result.best_value:.4f}; model in "
        f"{out / 'best'}, recipe in {out / 'best.yaml'}"
    )
