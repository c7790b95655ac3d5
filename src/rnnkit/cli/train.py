"""``rnnkit train TASK``: train a model from data files into a model directory.

One command per registered task (`rnnkit.tasks.TASKS`), generated from its `Task`: the task's
own options (``Task.train_options``) and the options every run has (``--out``, ``--config``,
``--set``, ``--resume``, ``--progress``), declared once here.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from rnnkit.cli.settings import format_settings, format_value
from rnnkit.errors import ConfigError
from rnnkit.run_config import resolve_run_config
from rnnkit.tasks import TASKS, Task, TrainOption
from rnnkit.tasks.base import option_values


class TaskCommands(TyperGroup):
    """``rnnkit train``'s commands: one per task in `TASKS`, made when asked for, so that a
    task registered after this module was imported has its command too."""

    def list_commands(self, ctx: typer.Context) -> list[str]:
        return [task.name for task in TASKS]

    def get_command(self, ctx: typer.Context, cmd_name: str) -> Any:
        if cmd_name not in TASKS:
            return None
        task = TASKS.get(cmd_name)
        single = typer.Typer(add_completion=False)
        single.command(name=task.name, epilog=f"Example: {task.example}")(train_command(task))
        return typer.main.get_command(single)


app = typer.Typer(
    cls=TaskCommands,
    help="Train a model on your data; writes a model directory.",
    no_args_is_help=True,
)


# The options every ``train`` command has, after the task's own (typer reads the annotations).
RUN_OPTIONS = {
    "out": (Path | None, None, typer.Option(help="The model directory to write.")),
    "config": (
        Path | None,
        None,
        typer.Option("--config", help="A YAML/JSON config file (sections data, model, trainer)."),
    ),
    "overrides": (
        list[str],
        [],
        typer.Option("--set", help="Override any config key, e.g. --set model.hidden_size=256."),
    ),
    "resume": (
        Path | None,
        None,
        typer.Option(help="Continue the killed or finished run in this model directory."),
    ),
    "progress": (
        bool,
        True,
        typer.Option("--progress/--no-progress", help="Show a progress bar."),
    ),
}


def option_parameter(option: TrainOption, defaults: Any) -> inspect.Parameter:
    """A task option as a typer parameter; None (its default) means "not given", and the help
    shows the task's default (the first field it sets, in the default config ``defaults``)."""
    declarations = () if option.flag is None else (option.flag,)
    default = config_value(defaults, option.fields[0])
    shown = option.help if default == "" else f"{option.help} \\[default: {format_value(default)}]"
    info = typer.Option(*declarations, help=shown)
    return inspect.Parameter(option.name, inspect.Parameter.KEYWORD_ONLY, default=None,
                             annotation=Annotated[option.type | None, info])  # fmt: skip


def config_value(config: Any, dotted: str) -> Any:
    """The value of the dotted field ``dotted`` (``model.encoder.cell``) of ``config``."""
    for name in dotted.split("."):
        config = getattr(config, name)
    return config


def list_settings_parameter(task: Task) -> inspect.Parameter:
    """``--list-settings``: prints every ``--set`` key of ``task`` and exits."""

    def show(value: bool) -> None:
        if value:
            typer.echo(format_settings(task))
            raise typer.Exit()

    info = typer.Option("--list-settings", is_eager=True, callback=show, help="Print every "
                        "--set key with its type, default and meaning, and exit.")  # fmt: skip
    return inspect.Parameter("list_settings", inspect.Parameter.KEYWORD_ONLY, default=False,
                             annotation=Annotated[bool, info])  # fmt: skip


def train_command(task: Task) -> Callable[..., None]:
    """The ``rnnkit train NAME`` command of ``task``: its options, then the run options."""

    def command(**values: Any) -> None:
        values.pop("list_settings")
        run_values = {name: values.pop(name) for name in RUN_OPTIONS}
        resume, out = run_values["resume"], run_values["out"]
        run_config = resolve_run_config(
            task.config_class, config_file=run_values["config"], resume=resume,
            options=option_values(task, values), overrides=run_values["overrides"],
        )  # fmt: skip
        out = resume if resume is not None else out
        result = task.train(
            check_required(run_config, out), out, resume=resume is not None,
            progress=run_values["progress"],
        )  # fmt: skip
        report_result(result)

    defaults = task.config_class()
    parameters = [option_parameter(option, defaults) for option in task.train_options]
    for name, (kind, default, info) in RUN_OPTIONS.items():
        parameters.append(inspect.Parameter(
            name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=Annotated[kind, info]
        ))  # fmt: skip
    parameters.append(list_settings_parameter(task))
    command.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    command.__annotations__ = {parameter.name: parameter.annotation for parameter in parameters}
    command.__doc__ = task.summary
    command.__name__ = task.name
    return command


def check_required(run_config, out: Path | None):
    """``--train`` and ``--out`` must be given (options or the config file); without
    ``--dev``, training holds out ``data.dev_holdout`` of the training data."""
    for name, value in (("--train", run_config.data.train), ("--out", out)):
        if not value:
            raise ConfigError(f"{name} is required (or give it in --config)")
    return run_config


def report_result(result) -> None:
    metrics = ", ".join(f"{key} {value:.4f}" for key, value in result.best_metrics.items())
    typer.echo(
        f"best epoch {result.best_epoch} of {result.epochs_run} ({result.stop_reason}): {metrics}"
    )
    typer.echo(f"model saved to {result.out_dir}")
