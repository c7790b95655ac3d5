"""The typer application, its error handling, and the registration of every verb."""

from __future__ import annotations

import logging

import click
import typer
from typer.core import TyperGroup

from rnnkit import __version__
from rnnkit.errors import RnnkitError


class ErrorReportingGroup(TyperGroup):
    """Reports an `RnnkitError` or an `OSError` as ``error: ...`` and exits with code 1."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (RnnkitError, OSError) as error:
            typer.echo(f"error: {error}", err=True)
            raise typer.Exit(code=1) from None


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
    from rnnkit.cli import check, demo, evaluate, predict, train

    app.command(name="demo", epilog=demo.EXAMPLE)(demo.demo)
    app.add_typer(train.app, name="train")
    app.command(name="evaluate", epilog=evaluate.EXAMPLE)(evaluate.evaluate)
    app.command(name="predict", epilog=predict.EXAMPLE)(predict.predict)
    app.command(name="check", epilog=check.EXAMPLE)(check.check)


register_commands()


def main() -> None:
    """Console-script entry point."""
    app()
