"""One rule for texts with no tokens after tokenization, in every task: training and evaluation
leave them out, counted and reported in one log line; prediction raises a `DataError`.

Built-in tokenizers give a token for every text a reader accepts (readers drop blank texts), so
a marker character that every tokenizer here drops stands for, say, the characters a BPE
tokenizer never saw.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import pytest

import rnnkit
from rnnkit.data import TaggedExample
from rnnkit.data.examples import ParallelExample
from rnnkit.data.tokenizers import TOKENIZERS
from rnnkit.errors import DataError
from rnnkit.tasks import tagging_train
from rnnkit.tasks.classification import train_classifier
from rnnkit.tasks.generation import train_generator
from rnnkit.tasks.translation_train import train_translator
from tests.tasks.conftest import tiny_config, write_intents
from tests.tasks.test_generation import tiny_config as tiny_generate_config
from tests.tasks.test_generation import write_names
from tests.tasks.translation_toys import tiny_translate_config, write_tsv

MARK = "∅"  # every tokenizer below gives no token for a text holding it


@pytest.fixture
def dropping_tokenizers(monkeypatch):
    for cls in set(TOKENIZERS.values()):
        original = cls.tokenize

        def tokenize(self, text, original=original):
            return [] if MARK in text else original(self, text)

        monkeypatch.setattr(cls, "tokenize", tokenize)
        if "tokenize_batch" in vars(cls):  # a native batch path: through tokenize instead
            monkeypatch.setattr(cls, "tokenize_batch", lambda self, texts: [
                self.tokenize(text) for text in texts])  # fmt: skip


def append(path: Path, line: str) -> Path:
    with path.open("a", encoding="utf-8") as handle:
        handle.write(line + "\n")
    return path


def reported(caplog) -> list[str]:
    messages = [record.getMessage() for record in caplog.records]
    return [message for message in messages if "no tokens after tokenization" in message]


def train_reporting(train, config, out: Path, caplog) -> list[str]:
    """Trains, and returns the lines about texts with no tokens that training logged."""
    with caplog.at_level(logging.INFO, logger="rnnkit"):
        train(config, out, progress=False)
    return reported(caplog)


def left_out(what: str, path: Path, line: int) -> str:
    return f"1 {what} have no tokens after tokenization and were left out (first: {path}:{line})"


def test_classification_leaves_them_out_of_train_and_dev(tmp_path, dropping_tokenizers, caplog):
    train = append(write_intents(tmp_path / "train.csv", 2, 0), f"{MARK},weather")
    dev = append(write_intents(tmp_path / "dev.csv", 1, 1), f"{MARK} {MARK},weather")
    config = tiny_config(train, dev, epochs=1)
    assert train_reporting(train_classifier, config, tmp_path / "model", caplog) == [
        left_out("training texts", train, 26),
        left_out("dev texts", dev, 14),
    ]
    classifier = rnnkit.load(tmp_path / "model")
    report = classifier.evaluate_file(str(dev), rnnkit.tasks.common.EvaluateOptions())
    assert report["n_no_tokens"] == 1 and report["n"] == 12
    with pytest.raises(DataError, match=rf"text 2 \('{MARK}'\) has no tokens to classify"):
        classifier.predict(["is it sunny", MARK])


def test_tagging_leaves_them_out_of_train_dev_and_evaluation(monkeypatch, tagger_dir, caplog):
    empty = TaggedExample([], [], None, "data.conll", 7)
    found = TaggedExample(["Anna"], ["B-PER"], None, "data.conll", 1)
    monkeypatch.setattr(tagging_train, "read_tagged", lambda *a, **k: ([found, empty], None))
    monkeypatch.setattr(tagging_train, "describe_read", lambda *a: None)
    with caplog.at_level(logging.INFO, logger="rnnkit"):
        settings = tagging_train.TagDataSettings(train="data.conll", dev="data.conll")
        kept = tagging_train.read_sentences("data.conll", settings, "training sentences")
    assert kept == [found]
    assert reported(caplog) == [left_out("training sentences", Path("data.conll"), 7)]
    tagger = rnnkit.load(tagger_dir)
    report = tagger.evaluate([found, empty])
    assert report["n_no_tokens"] == 1 and report["n"] == 1
    with pytest.raises(DataError, match=r"text 1 \(' '\) has no tokens to tag"):
        tagger.predict([" "])


def test_generation_leaves_them_out_and_a_prompt_without_tokens_is_an_error(
    tmp_path, dropping_tokenizers, caplog
):
    train = append(write_names(tmp_path / "train.tsv", 2, 0), f"{MARK}\tAna")
    dev = append(write_names(tmp_path / "dev.tsv", 1, 1), f"{MARK}\tBor")
    config = tiny_generate_config(train, dev, epochs=1, condition_column="language")
    assert train_reporting(train_generator, config, tmp_path / "model", caplog) == [
        left_out("texts", train, 18),
        left_out("texts", dev, 10),
    ]
    generator = rnnkit.load(tmp_path / "model")
    report = generator.evaluate_file(str(dev), rnnkit.tasks.common.EvaluateOptions())
    assert report["n"] == 8  # the 8 names, not the text with no tokens
    with pytest.raises(DataError, match=rf"text 1 \('{MARK}'\) has no tokens to continue"):
        generator.generate(2, "Ana", prefix=MARK)
    assert len(generator.generate(2, "Ana", prefix="", seed=0)) == 2  # no prompt: fine


def test_translation_leaves_out_pairs_with_an_empty_side(tmp_path, dropping_tokenizers, caplog):
    train = append(write_tsv(tmp_path / "train.tsv", 60, 0), f"the cat .\t{MARK}")
    dev = append(write_tsv(tmp_path / "dev.tsv", 5, 1), f"{MARK}\tle chat .")
    config = tiny_translate_config(train, dev)
    config = dataclasses.replace(config, trainer=dataclasses.replace(config.trainer, epochs=1))
    assert train_reporting(train_translator, config, tmp_path / "model", caplog) == [
        left_out("training pairs", train, 61),
        left_out("dev pairs", dev, 6),
    ]
    translator = rnnkit.load(tmp_path / "model")
    pairs = [ParallelExample("the cat .", "le chat ."), ParallelExample(MARK, "le chat .")]
    report = translator.evaluate(pairs, beam=1)
    assert report["n_no_tokens"] == 1 and report["n"] == 1
    with pytest.raises(DataError, match=rf"text 1 \('{MARK}'\) has no tokens to translate"):
        translator.predict([MARK])
