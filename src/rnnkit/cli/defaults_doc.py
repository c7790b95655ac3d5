"""``python -m rnnkit.cli.defaults_doc [PATH] [--check]``: writes docs/defaults.md (or PATH),
the table of every task's settings and defaults (`rnnkit.cli.settings.defaults_markdown`), or
with ``--check`` exits 1 when that file differs from what it would write."""

from __future__ import annotations

from pathlib import Path

import typer

from rnnkit.cli.settings import defaults_markdown

DEFAULTS_DOC = Path("docs") / "defaults.md"

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)


@app.command(epilog="Example: python -m rnnkit.cli.defaults_doc --check")
def main(
    path: Path = typer.Argument(
        DEFAULTS_DOC, metavar="PATH", help="The Markdown file to write or check."
    ),
    check: bool = typer.Option(
        False, "--check", help="Write nothing; exit 1 if PATH is missing or out of date."
    ),
) -> None:
    """Writes the table of every task's settings and defaults, generated from the config
    dataclasses, to PATH."""
    text = defaults_markdown()
    if not check:
        try:
            path.write_text(text, encoding="utf-8")
        except OSError as error:  # run outside the repository root, say: no docs/ folder
            typer.echo(f"error: cannot write {path}: {error.strerror}", err=True)
            raise typer.Exit(code=1) from None
        typer.echo(f"wrote {path}")
    elif not path.is_file() or path.read_text(encoding="utf-8") != text:
        fix = f"run python -m rnnkit.cli.defaults_doc {path}"
        typer.echo(f"error: {path} is out of date: {fix}", err=True)
        raise typer.Exit(code=1)
    else:
        typer.echo(f"{path} is up to date")


if __name__ == "__main__":
    app()
