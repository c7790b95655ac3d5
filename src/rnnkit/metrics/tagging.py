"""Entity-level tagging metrics with seqeval (BIO, conlleval semantics): micro precision,
recall and F1, and a per-type report. Every result is plain Python (JSON-able)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

from rnnkit.errors import ConfigError


def tagging_report(gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]]) -> dict:
    """``{"f1", "precision", "recall", "per_type": {type: {precision, recall, f1, support}},
    "n"}`` over sentences of BIO tags; entity-level micro averages (seqeval's default mode).

    A type never predicted (or never in ``gold``) scores 0 precision (or recall), without a
    warning.
    """
    if len(gold) != len(predicted):
        raise ConfigError(
            f"predicted: expected {len(gold)} sentences (as in gold), got {len(predicted)}"
        )
    for index, (true, guess) in enumerate(zip(gold, predicted, strict=True)):
        if len(true) != len(guess):
            raise ConfigError(
                f"predicted[{index}]: expected {len(true)} tags (as in gold), got {len(guess)}"
            )
    from seqeval.metrics import classification_report

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zero division on absent types: reported as 0
        raw: dict[str, Any] = classification_report(
            [list(s) for s in gold], [list(s) for s in predicted], output_dict=True,
            zero_division=0,
        )  # fmt: skip
    micro = raw.pop("micro avg", {"precision": 0.0, "recall": 0.0, "f1-score": 0.0})
    per_type = {
        kind: {
            "precision": float(scores["precision"]),
            "recall": float(scores["recall"]),
            "f1": float(scores["f1-score"]),
            "support": int(scores["support"]),
        }
        for kind, scores in raw.items()
        if not kind.endswith(" avg")
    }
    return {
        "f1": float(micro["f1-score"]),
        "precision": float(micro["precision"]),
        "recall": float(micro["recall"]),
        "per_type": per_type,
        "n": len(gold),
    }
