"""The typer application, its error handling, and the registration of every verb."""

from __future__ import annotations

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
) -> None:
    """rnnkit: recurrent neural networks for NLP."""


def register_commands() -> None:
    from rnnkit.cli import check, diagnose

    app.command(name="check", epilog=check.EXAMPLE)(check.check)
    app.add_typer(diagnose.app, name="diagnose")


register_commands()


def main() -> None:
    """Console-script entry point."""
    app()
