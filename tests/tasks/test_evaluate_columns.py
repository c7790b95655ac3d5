"""A classifier evaluates a file in the columns its training read, unless told others; lines
without a header are read the way round training read them."""

from __future__ import annotations

import csv
import dataclasses
import json
import logging
import shutil
from pathlib import Path

import pytest

import rnnkit
from rnnkit.data.readers import detect_classification_format
from rnnkit.errors import DataError
from rnnkit.tasks.classification import train_classifier
from rnnkit.tasks.common import EvaluateOptions
from tests.tasks.conftest import tiny_config


def test_evaluate_reads_the_columns_training_read(trained_dir, intent_files, tmp_path):
    directory = shutil.copytree(trained_dir, tmp_path / "model")
    config_path = directory / "config.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config["data"].update(text_column="words", label_column="gold")  # as if trained on them
    config_path.write_text(json.dumps(config), encoding="utf-8")
    renamed = tmp_path / "dev.csv"
    lines = intent_files[1].read_text(encoding="utf-8").splitlines()
    renamed.write_text("\n".join(["words,gold", *lines[1:]]) + "\n", encoding="utf-8")

    report = rnnkit.load(directory).evaluate_file(str(renamed), EvaluateOptions())
    assert report["n"] == len(lines) - 1

    with pytest.raises(DataError, match="no text column"):
        rnnkit.load(trained_dir).evaluate_file(str(renamed), EvaluateOptions())


def headerless(csv_path: Path, out: Path) -> Path:
    """The rows of an intents CSV as ``text<TAB>label`` lines without a header."""
    rows = list(csv.reader(csv_path.open(encoding="utf-8")))[1:]
    out.write_text("".join(f"{text}\t{label}\n" for text, label in rows), encoding="utf-8")
    return out


def test_lines_without_a_header_are_read_as_the_training_file_was(intent_files, tmp_path, caplog):
    train = headerless(intent_files[0], tmp_path / "train.tsv")
    dev = headerless(intent_files[1], tmp_path / "dev.tsv")
    with caplog.at_level(logging.INFO, logger="rnnkit"):
        train_classifier(tiny_config(train, dev, epochs=1), tmp_path / "run", progress=False)
    assert "lines without a header, read as text<TAB>label" in caplog.text
    config = json.loads((tmp_path / "run" / "config.json").read_text(encoding="utf-8"))
    assert config["data"]["headerless"] == "text-label"
    classifier = rnnkit.load(tmp_path / "run")
    assert sorted(classifier.labels.labels) == ["ask_time", "play_music", "weather"]
    # three test lines, each value distinct and the texts short: alone they are guessed
    # label<TAB>text (the shorter field is the label); they are read as training read its file
    test = tmp_path / "test.tsv"
    test.write_text("jazz\tplay_music\nsunny\tweather\ntime now\tx\n", encoding="utf-8")
    assert detect_classification_format(test) == "label-text"
    report = classifier.evaluate_file(str(test), EvaluateOptions())
    assert (report["n"], report["n_unknown_label"]) == (3, 1)


def test_a_dev_set_whose_labels_training_never_saw_stops_before_training(intent_files, tmp_path):
    train = headerless(intent_files[0], tmp_path / "train.tsv")
    dev = tmp_path / "dev.tsv"
    dev.write_text("hello there\task_time\nplay it loud\tplay_music\n", encoding="utf-8")
    config = tiny_config(train, dev, epochs=1)
    flipped = dataclasses.replace(
        config, data=dataclasses.replace(config.data, headerless="label-text")
    )
    with pytest.raises(
        DataError,
        match=r"dev\.tsv:1: none of the 2 dev labels occurs in training \(the first: "
        r"'hello there'; training's 12: .*\); check the label column",
    ):
        train_classifier(flipped, tmp_path / "run", progress=False)
    assert not (tmp_path / "run" / "model.safetensors").exists()
