"""The training-curves figure: what it plots, and that it marks the kept epoch."""

from __future__ import annotations

import math

import pytest

from rnnkit.errors import ConfigError
from rnnkit.metrics.curves import draw_training_curves
from rnnkit.metrics.plotting import headless_pyplot

RECORDS = [
    {"epoch": 1, "train_loss": 1.2, "dev_accuracy": 0.70, "dev_loss": 0.9},
    {"epoch": 2, "train_loss": 0.8, "dev_accuracy": 0.85, "dev_loss": 0.6},
    {"epoch": 3, "train_loss": 0.5, "dev_accuracy": 0.90, "dev_loss": 0.5},
    {"epoch": 4, "train_loss": 0.3, "dev_accuracy": None, "dev_loss": 0.7},  # NaN logged as null
]


@pytest.fixture
def figure():
    figure = draw_training_curves(RECORDS, "accuracy", kept_epoch=3)
    yield figure
    headless_pyplot().close(figure)


def lines(axes) -> dict[str, tuple[list, list]]:
    """Each labelled line of ``axes``: label -> (x data, y data)."""
    return {
        line.get_label(): (list(line.get_xdata()), list(line.get_ydata()))
        for line in axes.get_lines()
        if not line.get_label().startswith("_")
    }


def test_plots_train_loss_and_the_dev_metric_per_epoch(figure):
    loss_axes, dev_axes = figure.axes
    assert (loss_axes.get_ylabel(), dev_axes.get_ylabel()) == ("train loss", "dev accuracy")
    assert lines(loss_axes)["train loss"] == ([1, 2, 3, 4], [1.2, 0.8, 0.5, 0.3])
    epochs, dev = lines(dev_axes)["dev accuracy"]
    assert epochs == [1, 2, 3, 4] and dev[:3] == [0.70, 0.85, 0.90] and math.isnan(dev[3])


def test_marks_the_kept_epoch_in_both_panels(figure):
    for axes in figure.axes:
        assert lines(axes)["kept epoch 3"][0] == [3, 3]  # a vertical line at epoch 3
    marker = [line for line in figure.axes[1].get_lines() if line.get_marker() == "*"]
    assert [(list(m.get_xdata()), list(m.get_ydata())) for m in marker] == [([3], [0.90])]
    assert figure.get_suptitle() == "kept epoch 3 of 4 (dev accuracy 0.9000)"


def test_no_kept_epoch_draws_no_mark():
    figure = draw_training_curves(RECORDS, "loss", kept_epoch=0)
    assert not any("kept" in label for axes in figure.axes for label in lines(axes))
    headless_pyplot().close(figure)


def test_a_metric_no_record_has_is_an_error():
    with pytest.raises(ConfigError, match=r"curves: no record has 'dev_f1'; keys: \['dev_acc"):
        draw_training_curves(RECORDS, "f1", kept_epoch=1)
