"""Training curves: the train loss and the dev metric per epoch, with the kept epoch marked.

Drawn from the records the trainer appends to ``metrics.jsonl`` (one per epoch, with
``epoch``, ``train_loss`` and ``dev_<metric>``); the trainer writes the figure to
``curves.png`` at the end of every run.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from rnnkit.errors import ConfigError
from rnnkit.metrics.plotting import headless_pyplot

KEPT_STYLE = {"color": "tab:red", "linestyle": "--", "linewidth": 1}


def draw_training_curves(records: Sequence[dict[str, Any]], monitor: str, kept_epoch: int) -> Any:
    """Two panels sharing the epoch axis: train loss (top) and dev ``monitor`` (bottom).

    ``kept_epoch`` (1-based; 0: none) gets a dashed vertical line, labelled ``kept epoch N``,
    in both panels and a marker on the dev curve. Missing or null values (a non-finite metric
    is logged as null) leave gaps. Returns the matplotlib ``Figure``; the caller saves and
    closes it. Raises ``ConfigError`` when no record has ``dev_<monitor>``.
    """
    key = f"dev_{monitor}"
    if not any(key in record for record in records):
        raise ConfigError(f"curves: no record has {key!r}; keys: {sorted(set().union(*records))}")
    epochs = [record["epoch"] for record in records]
    plt = headless_pyplot()
    from matplotlib.ticker import MaxNLocator  # after headless_pyplot chose the backend

    figure, (loss_axes, dev_axes) = plt.subplots(2, 1, sharex=True, figsize=(6.4, 5.6))
    loss_axes.plot(epochs, values(records, "train_loss"), marker="o", label="train loss")
    loss_axes.set_ylabel("train loss")
    dev = values(records, key)
    dev_axes.plot(epochs, dev, marker="o", color="tab:green", label=f"dev {monitor}")
    dev_axes.set_ylabel(f"dev {monitor}")
    dev_axes.set_xlabel("epoch")
    dev_axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    if kept_epoch in epochs:
        for axes in (loss_axes, dev_axes):
            axes.axvline(kept_epoch, label=f"kept epoch {kept_epoch}", **KEPT_STYLE)
        kept_value = dev[epochs.index(kept_epoch)]
        dev_axes.plot([kept_epoch], [kept_value], marker="*", markersize=14, color="tab:red")
        figure.suptitle(
            f"kept epoch {kept_epoch} of {len(epochs)} (dev {monitor} {kept_value:.4f})"
        )
    for axes in (loss_axes, dev_axes):
        axes.grid(alpha=0.3)
        axes.legend(loc="best")
    figure.tight_layout()
    return figure


def values(records: Sequence[dict[str, Any]], key: str) -> list[float]:
    """``record[key]`` of every record as a float; NaN where missing or null (a gap)."""
    return [math.nan if record.get(key) is None else float(record[key]) for record in records]
