"""Without dev data, every task holds out ``data.dev_holdout`` of its training data as dev:
the same examples in every run, disjoint from those it trains on."""

from __future__ import annotations

import dataclasses
import json
import logging

import pytest
from typer.testing import CliRunner

from rnnkit.cli import app
from rnnkit.errors import ConfigError, DataError
from rnnkit.tasks.classification import train_classifier
from rnnkit.tasks.dev_split import train_and_dev
from rnnkit.tasks.tagging_train import train_tagger
from rnnkit.tasks.translation_train import prepare_data
from tests.tasks.conftest import tiny_config
from tests.tasks.tagging_data import tiny_tag_config
from tests.tasks.translation_toys import tiny_translate_config


def never_read(path: str) -> list[int]:
    raise AssertionError(f"no dev file should be read, got {path!r}")


def test_a_dev_file_is_read_and_the_training_data_kept_whole():
    assert train_and_dev([1, 2, 3], "dev.tsv", lambda path: [path], 0.1, "t") == (
        [1, 2, 3],
        ["dev.tsv"],
    )


def test_without_one_a_fixed_tenth_is_held_out(caplog):
    examples = list(range(200))
    with caplog.at_level(logging.INFO, logger="rnnkit"):
        train, dev = train_and_dev(examples, "", never_read, 0.1, "train.tsv")
    assert len(dev) == 20 and len(train) == 180
    assert sorted(train + dev) == examples  # disjoint, and nothing lost
    assert dev == sorted(dev) and train == sorted(train)  # in file order
    assert dev != list(range(180, 200))  # chosen at random, not the file's end
    assert train_and_dev(examples, "", never_read, 0.1, "train.tsv") == (train, dev)
    assert "no dev data given: 20 of the 200 training examples held out as dev" in caplog.text
    # a larger fraction holds out more
    assert len(train_and_dev(examples, "", never_read, 0.25, "train.tsv")[1]) == 50


@pytest.mark.parametrize("holdout", [0.0, 1.0, 1.5, -0.1])
def test_a_fraction_outside_0_1_is_a_config_error(holdout):
    with pytest.raises(ConfigError, match=r"data\.dev_holdout: expected a fraction in \(0, 1\)"):
        train_and_dev([1, 2, 3], "", never_read, holdout, "train.tsv")


def test_too_few_examples_to_hold_out_name_the_file():
    with pytest.raises(DataError, match=r"train\.tsv: 3 training examples are too few to hold out"):
        train_and_dev([1, 2, 3], "", never_read, 0.1, "train.tsv")


def test_a_classifier_trains_and_selects_on_held_out_texts(intent_files, tmp_path):
    config = tiny_config(intent_files[0], "", epochs=1)
    result = train_classifier(config, tmp_path / "run", progress=False)
    assert 0.0 <= result.best_metrics["accuracy"] <= 1.0
    saved = json.loads((tmp_path / "run" / "config.json").read_text(encoding="utf-8"))
    assert (saved["data"]["dev"], saved["data"]["dev_holdout"]) == ("", 0.1)


def test_a_tagger_holds_out_sentences(conll_files, tmp_path, caplog):
    config = tiny_tag_config(conll_files[0], "")
    config = dataclasses.replace(config, trainer=dataclasses.replace(config.trainer, epochs=1))
    with caplog.at_level(logging.INFO, logger="rnnkit"):
        train_tagger(config, tmp_path / "run", progress=False)
    assert "training examples held out as dev" in caplog.text


def test_translation_holds_out_pairs_capped_as_a_dev_file_is(translation_files):
    config = tiny_translate_config(translation_files[0], "", dev_max_examples=10)
    prepared = prepare_data(config.data)
    assert len(prepared.dev_examples) == 10
    assert len(prepared.train_set) == 270  # 300 pairs, 30 held out (10 of them kept as dev)
    assert {example.path for example in prepared.dev_examples} == {str(translation_files[0])}


def test_the_command_line_needs_no_dev(intent_files, tmp_path):
    result = CliRunner().invoke(
        app,
        ["train", "classify", "--train", str(intent_files[0]), "--out", str(tmp_path / "m"),
         "--epochs", "1", "--no-progress"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (tmp_path / "m" / "model.safetensors").is_file()
