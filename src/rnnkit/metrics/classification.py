"""Classification metrics: accuracy, F1 (macro, weighted, per class) and the confusion matrix.

Labels are class ids ``0 .. C-1``; every result is plain Python (JSON-able). A class with no
predictions (or no examples) gets precision (or recall) 0, as scikit-learn's default does.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rnnkit.errors import ConfigError
from rnnkit.metrics.plotting import headless_pyplot


def confusion_matrix(
    y_true: Sequence[int], y_pred: Sequence[int], num_classes: int
) -> list[list[int]]:
    """``matrix[i][j]`` = how many examples of true class ``i`` were predicted as ``j``."""
    true, pred = _check_ids(y_true, y_pred, num_classes)
    counts = np.bincount(true * num_classes + pred, minlength=num_classes * num_classes)
    return counts.reshape(num_classes, num_classes).tolist()


def _check_ids(y_true, y_pred, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    true = np.asarray(y_true, dtype=np.int64).reshape(-1)
    pred = np.asarray(y_pred, dtype=np.int64).reshape(-1)
    if len(true) != len(pred):
        raise ConfigError(
            f"y_true and y_pred must have the same length, got {len(true)} and {len(pred)}"
        )
    for name, ids in (("y_true", true), ("y_pred", pred)):
        bad = ids[(ids < 0) | (ids >= num_classes)]
        if len(bad):
            raise ConfigError(
                f"{name}: class ids must be in [0, {num_classes - 1}], got {int(bad[0])}"
            )
    return true, pred


def classification_report(
    y_true: Sequence[int],
    y_pred: Sequence[int],
    labels: Sequence[str],
) -> dict[str, Any]:
    """Every classification metric of one evaluation, JSON-able.

    Returns ``{"n", "accuracy", "macro_f1", "weighted_f1", "per_class": {label: {"precision",
    "recall", "f1", "support"}}, "labels", "confusion_matrix"}``; ``labels[i]`` names class
    ``i``. Macro F1 averages the per-class F1 over all classes; weighted F1 weights them by
    support.
    """
    matrix = np.asarray(confusion_matrix(y_true, y_pred, len(labels)), dtype=np.float64)
    n = int(matrix.sum())
    true_positive = np.diag(matrix)
    support = matrix.sum(axis=1)
    predicted = matrix.sum(axis=0)
    precision = _divide(true_positive, predicted)
    recall = _divide(true_positive, support)
    f1 = _divide(2 * precision * recall, precision + recall)
    per_class = {
        label: {
            "precision": float(precision[i]),
            "recall": float(recall[i]),
            "f1": float(f1[i]),
            "support": int(support[i]),
        }
        for i, label in enumerate(labels)
    }
    return {
        "n": n,
        "accuracy": float(true_positive.sum() / n) if n else 0.0,
        "macro_f1": float(f1.mean()) if len(labels) else 0.0,
        "weighted_f1": float((f1 * support).sum() / n) if n else 0.0,
        "per_class": per_class,
        "labels": list(labels),
        "confusion_matrix": matrix.astype(np.int64).tolist(),
    }


def _divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """Element-wise division with 0 where the denominator is 0."""
    out = np.zeros_like(numerator, dtype=np.float64)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


def save_confusion_matrix_png(
    matrix: Sequence[Sequence[int]], labels: Sequence[str], path: str | Path
) -> Path:
    """Draws the confusion matrix (rows: true class, columns: predicted) to a PNG file.

    Cells are coloured by the row-normalised rate (recall per class) and show the counts.
    """
    # Opens like the attention plot of metrics/translation.py (a checked matrix, then a heatmap);
    # the checks, colours and axes differ, so each plot keeps its own.
    plt = headless_pyplot()

    counts = np.asarray(matrix, dtype=np.int64)
    if counts.shape != (len(labels), len(labels)):
        raise ConfigError(
            f"matrix must be {len(labels)}x{len(labels)} for {len(labels)} labels, "
            f"got shape {counts.shape}"
        )
    rates = _divide(counts.astype(np.float64), counts.sum(axis=1, keepdims=True))
    size = max(4.0, 0.5 * len(labels) + 2)
    figure, axes = plt.subplots(figsize=(size, size))
    axes.imshow(rates, cmap="Blues", vmin=0.0, vmax=1.0)
    axes.set_xticks(range(len(labels)), labels=list(labels), rotation=45, ha="right")
    axes.set_yticks(range(len(labels)), labels=list(labels))
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    for (i, j), count in np.ndenumerate(counts):
        colour = "white" if rates[i, j] > 0.5 else "black"
        axes.text(j, i, str(count), ha="center", va="center", color=colour, fontsize=8)
    figure.tight_layout()
    path = Path(path)
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path
