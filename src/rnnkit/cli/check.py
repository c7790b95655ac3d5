"""``rnnkit check``: a tiny forward pass through every cell on both backends."""

from __future__ import annotations

import typer

EXAMPLE = "Example: rnnkit check"


def check(
    seed: int = typer.Option(0, help="Seed for the random weights and inputs."),
) -> None:
    """Run every layer type (RNN, LSTM, GRU; uni- and bidirectional) on a tiny random batch
    with the loop and the fused backends, and show that both compute the same outputs."""
    from rich.console import Console
    from rich.table import Table

    from rnnkit.nn.selfcheck import compare_backends

    table = Table(title="rnnkit: loop vs fused backend on a random batch (B=3, T=5, E=4, H=6)")
    for column in ("layer", "bidirectional", "output shape", "max |loop - fused|"):
        table.add_column(column)
    worst = 0.0
    for row in compare_backends(seed):
        worst = max(worst, row.max_difference)
        table.add_row(
            row.layer, str(row.bidirectional), str(row.output_shape), f"{row.max_difference:.1e}"
        )
    Console().print(table)
    if worst > 1e-5:
        typer.echo(f"error: backends disagree by {worst:.1e}", err=True)
        raise typer.Exit(code=1)
    typer.echo("ok: both backends agree")
