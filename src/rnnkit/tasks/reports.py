"""How each task prints (rich): one prediction (``rnnkit predict``), and its evaluation report
as a line of scores and a table (``rnnkit evaluate``)."""

from __future__ import annotations

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
