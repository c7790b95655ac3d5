"""The typer application, its error handling, and the registration of every verb."""

from __future__ import annotations

import inspect
import logging
import sys
from typing import Any

import typer
from typer.core import TyperGroup

from rnnkit.errors import RnnkitError
from rnnkit.version import __version__

try:  # recent typer releases vendor click as typer._click; older ones use click itself
    from typer._click import exceptions as click_exceptions
except ImportError:  # pragma: no cover
    from click import exceptions as click_exceptions


class ErrorReportingGroup(TyperGroup):
    """Reports every expected failure as one ``error: ...`` line on stderr, no traceback.

    An `RnnkitError` or an `OSError` (a missing file, say) exits with code 1; a usage error
    (an unknown option, a bad option value) with click's code 2.
    """

    def invoke(self, ctx: typer.Context):
        try:
            return super().invoke(ctx)
        except (RnnkitError, OSError) as error:
            typer.echo(f"error: {error}", err=True)
            raise typer.Exit(code=1) from None

    def main(self, *args, standalone_mode: bool = True, **kwargs):
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        try:
            result = super().main(*args, standalone_mode=False, **kwargs)
        except click_exceptions.NoArgsIsHelpError as error:
            error.show()  # the help text, as for --help
            sys.exit(error.exit_code)
        except click_exceptions.ClickException as error:
            typer.echo(f"error: {error.format_message()}", err=True)
            sys.exit(error.exit_code)
        except typer.Abort:
            typer.echo("error: aborted", err=True)
            sys.exit(1)
        sys.exit(result if isinstance(result, int) else 0)


app = typer.Typer(
    cls=ErrorReportingGroup,
    help="rnnkit: recurrent neural networks for NLP — train, evaluate, explain, export, serve.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def show_version(value: bool) -> None:
    if value:
        import torch

        typer.echo(f"rnnkit {__version__} (torch {torch.__version__})")
        raise typer.Exit()


@app.callback()
def root(
    version: bool = typer.Option(
        False, "--version", callback=show_version, is_eager=True, help="Print versions and exit."
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only warnings and errors on stderr."),
) -> None:
    """rnnkit: recurrent neural networks for NLP."""
    configure_logging(logging.WARNING if quiet else logging.INFO)


def configure_logging(level: int) -> None:
    """rnnkit's log lines go to stderr, so stdout stays clean for --json output."""
    from rich.console import Console
    from rich.logging import RichHandler

    logger = logging.getLogger("rnnkit")
    logger.handlers[:] = [
        RichHandler(console=Console(stderr=True), show_path=False, show_time=False)
    ]
    logger.setLevel(level)
    logger.propagate = False


def register_commands() -> None:
    from rnnkit.cli import (
        check,
        demo,
        diagnose,
        evaluate,
        export,
        generate,
        predict,
        serve,
        train,
        translate,
        tune,
    )

    app.command(name="demo", epilog=demo.EXAMPLE)(demo.demo)
    app.add_typer(train.app, name="train")
    app.command(name="tune", epilog=tune.EXAMPLE)(tune.tune)
    app.command(name="evaluate", epilog=evaluate.EXAMPLE)(evaluate.evaluate)
    app.command(name="predict", epilog=predict.EXAMPLE)(predict.predict)
    app.command(name="translate", epilog=translate.EXAMPLE)(translate.translate)
    app.command(name="generate", epilog=generate.EXAMPLE)(generate.generate)
    app.command(name="check", epilog=check.EXAMPLE)(check.check)
    app.add_typer(diagnose.app, name="diagnose")
    app.command(name="export", epilog=export.EXAMPLE)(export.export)
    app.command(name="serve", epilog=serve.EXAMPLE)(serve.serve)
    for command in registered_commands(app):
        command.help = prose(command.help or inspect.getdoc(command.callback) or "")


def registered_commands(typer_app: typer.Typer) -> list[Any]:
    """Every command of ``typer_app`` and of the command groups under it."""
    commands = list(typer_app.registered_commands)
    for group in typer_app.registered_groups:
        commands += registered_commands(group.typer_instance)
    return commands


def prose(docstring: str) -> str:
    """A docstring as help text: each paragraph's hard-wrapped lines joined, so that the
    terminal wraps the sentences at its own width instead of breaking them mid-line."""
    paragraphs = inspect.cleandoc(docstring).split("\n\n")
    return "\n\n".join(" ".join(paragraph.split()) for paragraph in paragraphs)


register_commands()


def main() -> None:
    """Console-script entry point."""
    app()
