"""A classifier evaluates a file in the columns its training read, unless told others."""

from __future__ import annotations

import json
import shutil

import pytest

import rnnkit
from rnnkit.errors import DataError
from rnnkit.tasks.common import EvaluateOptions


def test_evaluate_reads_the_columns_training_read(trained_dir, intent_files, tmp_path):
    directory = shutil.copytree(trained_dir, tmp_path / "model")
    config_path = directory / "config.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config["data"].update(text_column="words", label_column="target")  # as if trained on them
    config_path.write_text(json.dumps(config), encoding="utf-8")
    renamed = tmp_path / "dev.csv"
    lines = intent_files[1].read_text(encoding="utf-8").splitlines()
    renamed.write_text("\n".join(["words,target", *lines[1:]]) + "\n", encoding="utf-8")

    report = rnnkit.load(directory).evaluate_file(str(renamed), EvaluateOptions())
    assert report["n"] == len(lines) - 1

    with pytest.raises(DataError, match="no text column"):
        rnnkit.load(trained_dir).evaluate_file(str(renamed), EvaluateOptions())
