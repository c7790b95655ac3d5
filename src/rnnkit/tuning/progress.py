"""What a search shows while it runs: one line per finished trial (its parameters, dev metric,
time, and whether it was pruned) under a rich bar of the time budget."""

from __future__ import annotations

from typing import Any

from rich.console import Console, RenderableType
from rich.progress import Progress, ProgressColumn, TextColumn
from rich.progress_bar import ProgressBar
from rich.text import Text

from rnnkit.tuning.study import BudgetClock


class BudgetColumn(ProgressColumn):
    """The budget's bar (``text=False``) or its minutes spent, read from the clock at every
    refresh: the bar moves while a trial trains, not only when one ends."""

    def __init__(self, clock: BudgetClock, text: bool) -> None:
        super().__init__()
        self.clock, self.text = clock, text

    def render(self, task: Any) -> RenderableType:
        spent, total = min(self.clock.spent(), self.clock.total), self.clock.total
        if self.text:
            return Text(f"{spent / 60:.1f} of {total / 60:g} min")
        return ProgressBar(total=total, completed=spent, width=40)


class SearchProgress:
    """The budget bar (when ``bar``) and the trial lines, on stdout."""

    def __init__(self, clock: BudgetClock, monitor: str, bar: bool) -> None:
        self.clock, self.monitor = clock, monitor
        self.console = Console(highlight=False)
        self.progress: Progress | None = None
        if bar:
            self.progress = Progress(
                TextColumn("budget"), BudgetColumn(clock, text=False),
                BudgetColumn(clock, text=True), console=self.console, refresh_per_second=2,
            )  # fmt: skip

    def __enter__(self) -> SearchProgress:
        if self.progress is not None:
            self.progress.add_task("budget")
            self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()

    def say(self, text: str) -> None:
        self.console.print(text, soft_wrap=True)

    def trial_line(self, trial: Any) -> None:
        self.say(describe_trial(trial, self.monitor))


def describe_trial(trial: Any, monitor: str) -> str:
    """``trial 3  lr 0.0021, hidden_size 512  dev accuracy 0.8312  41 s  pruned at epoch 2``."""
    params = ", ".join(f"{short(key)} {format_value(v)}" for key, v in trial.params.items())
    seconds = trial.duration.total_seconds() if trial.duration is not None else 0.0
    state = trial.state.name.lower()
    values = trial.intermediate_values
    if state == "pruned" and values:
        value, outcome = values[max(values)], f"pruned at epoch {max(values)}"
    elif state == "complete":
        value, outcome = trial.value, f"{trial.user_attrs.get('epochs', '?')} epochs"
        if trial.user_attrs.get("stop_reason") == "search_budget":
            outcome += ", the last cut short by the budget"
    else:
        value, outcome = None, f"failed: {trial.user_attrs.get('error', 'process stopped')}"
    metric = f"dev {monitor} {value:.4f}" if value is not None else f"dev {monitor} -"
    recipe = " (default recipe)" if trial.user_attrs.get("recipe") == "defaults" else ""
    return f"trial {trial.number}{recipe}  {params}  {metric}  {seconds:.0f} s  {outcome}"


def short(key: str) -> str:
    """``model.encoder.hidden_size`` -> ``encoder.hidden_size``; ``trainer.lr`` -> ``lr``."""
    return key.split(".", 1)[1] if "." in key else key


def format_value(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)
