"""``rnnkit train tag|joint``, and ``evaluate``/``predict`` on tagging model directories."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from rnnkit.cli import app
from tests.cli.unseen import evaluate_json, strict_error
from tests.tasks.tagging_data import write_conll, write_slot_folder

runner = CliRunner()
TINY = ["--hidden-size", "16", "--embedding-dim", "16", "--epochs", "6", "--batch-size", "8"]
TINY += ["--lr", "0.02", "--no-progress", "--set", "model.output_dropout=0.0"]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tag-cli")
    return {
        "conll": (write_conll(folder / "train.tsv", 3, 0), write_conll(folder / "dev.tsv", 1, 1)),
        "slots": (write_slot_folder(folder / "tr", 2, 0), write_slot_folder(folder / "dv", 1, 1)),
    }


@pytest.fixture(scope="module")
def tagger(tmp_path_factory, files):
    out = tmp_path_factory.mktemp("tag-model") / "ner"
    train, dev = files["conll"]
    arguments = ["train", "tag", "--train", str(train), "--dev", str(dev), "--out", str(out)]
    result = runner.invoke(app, [*arguments, "--char-features", "--crf", *TINY])
    assert result.exit_code == 0, result.output
    assert "model saved to" in result.output and "f1 1.0000" in result.output
    return out


@pytest.fixture(scope="module")
def joint(tmp_path_factory, files):
    out = tmp_path_factory.mktemp("joint-model") / "atis"
    train, dev = files["slots"]
    arguments = ["train", "joint", "--train", str(train), "--dev", str(dev), "--out", str(out)]
    result = runner.invoke(app, [*arguments, "--no-crf", "--tokenizer", "whitespace", *TINY])
    assert result.exit_code == 0, result.output
    return out


def test_train_records_the_options(tagger, joint):
    tag_config = json.loads((tagger / "config.json").read_text())
    assert tag_config["model"]["char_features"] and tag_config["model"]["use_crf"]
    joint_config = json.loads((joint / "config.json").read_text())
    assert joint_config["task"] == "joint" and not joint_config["model"]["use_crf"]


def test_predict_json_gives_spans_and_intent(tagger, joint):
    result = runner.invoke(app, ["predict", str(tagger), "Ben lives in New Berlin .", "--json"])
    assert result.exit_code == 0, result.output
    spans = json.loads(result.stdout)["spans"]
    assert [(s["type"], s["text"]) for s in spans] == [("PER", "Ben"), ("LOC", "New Berlin")]
    result = runner.invoke(app, ["predict", str(joint), "--json"], input="fly from rome to oslo\n")
    record = json.loads(result.stdout)
    assert record["intent"] == "flight" and {s["type"] for s in record["slots"]} <= {"from", "to"}


def test_predict_shows_spans(tagger):
    result = runner.invoke(app, ["predict", str(tagger), "Anna lives in New Rome ."])
    assert result.exit_code == 0, result.output
    assert "PER: 'Anna' [0:4]" in result.output and "LOC: 'New Rome'" in result.output


def test_evaluate_json_and_table(tagger, joint, files):
    result = runner.invoke(app, ["evaluate", str(tagger), str(files["conll"][1]), "--json"])
    report = json.loads(result.stdout)
    assert report["f1"] == 1.0 and {"precision", "recall", "per_type", "n"} <= set(report)
    result = runner.invoke(app, ["evaluate", str(joint), str(files["slots"][1]), "--json"])
    assert {"intent_accuracy", "sentence_accuracy"} <= set(json.loads(result.stdout))
    table = runner.invoke(app, ["evaluate", str(joint), str(files["slots"][1])])
    assert table.exit_code == 0 and "intent accuracy" in table.output and "support" in table.output


def test_tag_evaluate_counts_unseen_tags_as_errors(tagger, files, tmp_path):
    dev = tmp_path / "dev.tsv"  # 16 sentences the model gets right (32 entities), then one
    # whose place is tagged CITY, a type unseen in training: it starts at line 113
    unseen = "Anna\tB-PER\nlives\tO\nin\tO\nNew\tB-CITY\nParis\tI-CITY\n.\tO\n"
    dev.write_text(files["conll"][1].read_text() + "\n" + unseen)
    report, warning = evaluate_json(tagger, dev)
    assert warning == (
        f"2 tags unseen in training (first at {dev}:113: 'B-CITY' (token 4, 'New')); "
        "counted as errors (--unknown-labels error stops instead)"
    )
    assert report["n"] == 17 and report["n_unknown_tag"] == 2 and "n_unknown_label" not in report
    # 33 of 34 entities found; "New Paris" is predicted LOC: one miss and one false positive.
    assert report["precision"] == report["recall"] == report["f1"] == pytest.approx(33 / 34)
    assert strict_error(tagger, dev) == (
        f"error: {dev}:113: unknown tag 'B-CITY' (token 4, 'New'): not seen in training "
        "(--unknown-labels wrong counts it as an error)"
    )


def test_joint_evaluate_counts_unseen_intents_and_tags_as_errors(joint, files, tmp_path):
    dev = tmp_path / "dev"  # the 40 sentences the model gets right, then one (line 41) with an
    # unseen intent and an unseen slot type
    dev.mkdir()
    added = {"seq.in": "fly from boston to denver", "seq.out": "O O B-from O B-dest"}
    for name, line in {**added, "label": "airfare"}.items():
        (dev / name).write_text((files["slots"][1] / name).read_text() + line + "\n")
    report, warning = evaluate_json(joint, dev)
    where = f"{dev / 'seq.in'}:41"
    assert warning == (
        f"1 intent unseen in training (first at {where}: 'airfare'); 1 tag unseen in training "
        f"(first at {where}: 'B-dest' (token 5, 'denver')); counted as errors "
        "(--unknown-labels error stops instead)"
    )
    assert (report["n"], report["n_unknown_label"], report["n_unknown_tag"]) == (41, 1, 1)
    assert report["intent_accuracy"] == report["sentence_accuracy"] == pytest.approx(40 / 41)
    assert report["f1"] == pytest.approx(81 / 82)  # "denver" predicted B-to: gold is B-dest
    assert strict_error(joint, dev) == (
        f"error: {where}: unknown intent 'airfare': not seen in training "
        "(--unknown-labels wrong counts it as an error)"
    )


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["predict", "{tagger}", "x", "--trace"], "error: --trace: only for classifiers"),
        (["predict", "{tagger}", "x", "--top-k", "2"], "error: --top-k: only for classifiers"),
        (["evaluate", "{tagger}", "{dev}", "--confusion-png", "{tmp}/c.png"], "no confusion"),
        (
            [
                *("train", "tag", "--train", "{bad}", "--dev", "{dev}", "--out", "{tmp}/m"),
                *("--invalid-bio", "error"),
            ],
            "invalid BIO",
        ),
        (
            ["train", "joint", "--train", "{dev}", "--dev", "{dev}", "--out", "{tmp}/m"],
            "needs an intent",
        ),
        (["train", "tag", "--dev", "{dev}", "--out", "{tmp}/m"], "error: --train is required"),
    ],
)
def test_errors_are_one_line(arguments, message, tagger, files, tmp_path):
    bad = tmp_path / "bad.tsv"
    bad.write_text("Anna\tI-PER\n")
    values = {"tagger": tagger, "dev": files["conll"][1], "tmp": tmp_path, "bad": bad}
    result = runner.invoke(app, [argument.format(**values) for argument in arguments])
    assert result.exit_code == 1, result.output
    assert message in result.output and "Traceback" not in result.output
