"""Rich rendering of a classifier's token-by-token trace (``rnnkit predict --trace``, the demo)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

console = Console()


def print_trace(trace) -> None:
    """The O1 … On table: one row per token."""
    title = "reading one token at a time" + (
        " (bidirectional: states see the whole text)" if trace.bidirectional else ""
    )
    table = Table(title=title)
    table.add_column("t", justify="right")
    table.add_column("token")
    table.add_column("‖h_t‖" + (" fwd / bwd" if trace.bidirectional else ""), justify="right")
    table.add_column("if it ended here")
    table.add_column("p", justify="right")
    has_attention = trace.steps and trace.steps[0].attention is not None
    if has_attention:
        table.add_column("attention", justify="right")
    for t, step in enumerate(trace.steps, start=1):
        row = [
            f"O{t}",
            step.token,
            " / ".join(f"{n:.2f}" for n in step.hidden_norms),
            step.label,
            f"{step.probability:.3f}",
        ]
        if has_attention:
            row.append(f"{step.attention:.3f}")
        table.add_row(*row)
    console.print(table)
    console.print(f"prediction: [bold]{trace.label}[/bold] ({trace.probability:.3f})")
