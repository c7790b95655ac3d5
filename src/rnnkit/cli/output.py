"""Rich rendering shared by the commands: predictions, traces, metrics."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

console = Console()


def print_prediction(prediction) -> None:
    alternatives = ", ".join(f"{label} {p:.3f}" for label, p in prediction.top[1:])
    extra = f"  (next: {alternatives})" if alternatives else ""
    console.print(
        f"{prediction.text!r} → [bold]{prediction.label}[/bold] {prediction.probability:.3f}{extra}"
    )


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


def print_classification_report(report: dict[str, Any]) -> None:
    console.print(
        f"n {report['n']}  accuracy {report['accuracy']:.4f}  macro F1 {report['macro_f1']:.4f}  "
        f"weighted F1 {report['weighted_f1']:.4f}"
    )
    console.print(scores_table("label", report["per_class"]))


def scores_table(name: str, rows: dict[str, dict[str, Any]]) -> Table:
    """One row per label (or entity type): precision, recall, F1 and support."""
    table = Table()
    for column in (name, "precision", "recall", "f1", "support"):
        table.add_column(column, justify="left" if column == name else "right")
    for label, scores in rows.items():
        table.add_row(
            label,
            *(f"{scores[key]:.3f}" for key in ("precision", "recall", "f1")),
            str(scores["support"]),
        )
    return table


def print_spans(prediction) -> None:
    """A tagged text with its spans highlighted, then one line per span (and the intent)."""
    text = Text(prediction.text)
    for span in prediction.spans:
        text.stylize("bold reverse", span["start"], span["end"])
    intent = getattr(prediction, "intent", None)
    if intent is not None:
        text.append(f"  → {intent} {prediction.intent_prob:.3f}", style="bold")
    console.print(text)
    for span in prediction.spans:
        console.print(f"  {span['type']}: {span['text']!r} [{span['start']}:{span['end']}]")


def print_tagging_report(report: dict[str, Any]) -> None:
    """Entity-level scores, the joint scores when present, and one row per entity type."""
    line = (
        f"n {report['n']}  F1 {report['f1']:.4f}  precision {report['precision']:.4f}  "
        f"recall {report['recall']:.4f}"
    )
    if "intent_accuracy" in report:
        line += (
            f"  intent accuracy {report['intent_accuracy']:.4f}  "
            f"sentence accuracy {report['sentence_accuracy']:.4f}"
        )
    console.print(line)
    console.print(scores_table("type", report["per_type"]))


def print_translation(translation) -> None:
    console.print(f"{translation.text!r} → [bold]{translation.best}[/bold]", highlight=False)
    for rank, (text, score) in enumerate(translation.translations[1:], start=2):
        console.print(f"  {rank}. {text}  ({score:.3f})", highlight=False)


def print_translation_report(report: dict[str, Any]) -> None:
    console.print(
        f"n {report['n']}  BLEU {report['bleu']:.2f}  chrF {report['chrf']:.2f}  "
        f"(beam {report['beam']}, {report['seconds']:.1f} s)"
    )


def print_perplexity_report(report: dict[str, Any]) -> None:
    console.print(
        f"n {report['n']}  tokens {report['n_tokens']}  perplexity {report['perplexity']:.3f}  "
        f"NLL/token {report['nll']:.4f}"
    )


REPORT_PRINTERS: dict[str, Callable[[dict[str, Any]], None]] = {
    "classify": print_classification_report,
    "tag": print_tagging_report,
    "joint": print_tagging_report,
    "translate": print_translation_report,
    "generate": print_perplexity_report,
}


def print_report(task: str, report: dict[str, Any]) -> None:
    """Prints an evaluation report with its task's printer (JSON when the task has none)."""
    printer = REPORT_PRINTERS.get(task)
    if printer is None:
        console.print_json(data=report)
        return
    printer(report)
