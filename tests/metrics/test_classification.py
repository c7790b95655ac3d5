"""Classification metrics against values computed by hand."""

import pytest

from rnnkit.errors import ConfigError
from rnnkit.metrics import classification_report, confusion_matrix, save_confusion_matrix_png

# true:  a a a b b c      confusion (rows true, columns predicted):
# pred:  a a b b c c        a [2 1 0]   b [0 1 1]   c [0 0 1]
Y_TRUE = [0, 0, 0, 1, 1, 2]
Y_PRED = [0, 0, 1, 1, 2, 2]
LABELS = ["a", "b", "c"]


def test_confusion_matrix_counts_true_rows_and_predicted_columns():
    assert confusion_matrix(Y_TRUE, Y_PRED, 3) == [[2, 1, 0], [0, 1, 1], [0, 0, 1]]


def test_report_matches_hand_computed_values():
    report = classification_report(Y_TRUE, Y_PRED, LABELS)
    # precision a 2/2, b 1/2, c 1/2; recall a 2/3, b 1/2, c 1/1
    # f1 a 2*(1*2/3)/(5/3) = 0.8, b 0.5, c 2*(0.5*1)/1.5 = 2/3
    assert report["n"] == 6
    assert report["accuracy"] == pytest.approx(4 / 6)
    assert report["per_class"]["a"] == pytest.approx(
        {"precision": 1.0, "recall": 2 / 3, "f1": 0.8, "support": 3}
    )
    assert report["per_class"]["b"] == pytest.approx(
        {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2}
    )
    assert report["per_class"]["c"] == pytest.approx(
        {"precision": 0.5, "recall": 1.0, "f1": 2 / 3, "support": 1}
    )
    assert report["macro_f1"] == pytest.approx((0.8 + 0.5 + 2 / 3) / 3)
    assert report["weighted_f1"] == pytest.approx((0.8 * 3 + 0.5 * 2 + 2 / 3 * 1) / 6)
    assert report["confusion_matrix"] == [[2, 1, 0], [0, 1, 1], [0, 0, 1]]
    assert report["labels"] == LABELS


def test_class_never_predicted_gets_zero_precision_and_f1():
    report = classification_report([0, 1, 2], [0, 0, 0], LABELS)
    assert report["per_class"]["b"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert report["per_class"]["a"]["precision"] == pytest.approx(1 / 3)
    assert report["macro_f1"] == pytest.approx((2 * (1 / 3) / (4 / 3)) / 3)


def test_report_is_json_serialisable():
    import json

    report = classification_report(Y_TRUE, Y_PRED, LABELS)
    assert json.loads(json.dumps(report)) == report


def test_out_of_range_ids_and_length_mismatch_are_rejected():
    with pytest.raises(ConfigError, match=r"y_pred: class ids must be in \[0, 2\], got 3"):
        confusion_matrix([0, 1], [0, 3], 3)
    with pytest.raises(ConfigError, match="same length, got 2 and 1"):
        confusion_matrix([0, 1], [0], 3)


def test_confusion_matrix_png_is_written(tmp_path):
    path = save_confusion_matrix_png([[2, 1, 0], [0, 1, 1], [0, 0, 1]], LABELS, tmp_path / "cm.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ConfigError, match="must be 3x3 for 3 labels"):
        save_confusion_matrix_png([[1, 0], [0, 1]], LABELS, tmp_path / "bad.png")
