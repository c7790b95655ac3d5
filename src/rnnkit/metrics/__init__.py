"""Evaluation metrics, one module per kind of task."""

from rnnkit.metrics.classification import (
    classification_report,
    confusion_matrix,
    save_confusion_matrix_png,
)
from rnnkit.metrics.tagging import tagging_report

__all__ = [
    "classification_report",
    "confusion_matrix",
    "save_confusion_matrix_png",
    "tagging_report",
]
