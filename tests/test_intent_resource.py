"""The embedded intent data set (`rnnkit/resources/intents`) is complete, clean and installed."""

import csv
import re
from collections import Counter
from importlib.resources import files

import pytest

INTENTS_DIR = files("rnnkit") / "resources" / "intents"
HEADER = ["text", "label", "language"]
LANGUAGES = {"en", "zh"}
# `rnnkit demo` asks these after training; they must not be memorised.
DEMO_SENTENCES = {"what time is it?", "现在几点了?", "现在几点了？"}


def read_split(split: str) -> tuple[list[str], list[dict[str, str]]]:
    """Return the header and the rows of `train` or `dev`."""
    text = (INTENTS_DIR / f"{split}.tsv").read_text(encoding="utf-8")
    reader = csv.reader(text.splitlines(), delimiter="\t")
    header = next(reader)
    rows = [dict(zip(header, fields, strict=True)) for fields in reader]
    return header, rows


@pytest.fixture(scope="module")
def splits() -> dict[str, list[dict[str, str]]]:
    return {split: read_split(split)[1] for split in ("train", "dev")}


@pytest.mark.parametrize("split", ["train", "dev"])
def test_header_and_fields(split: str) -> None:
    header, rows = read_split(split)
    assert header == HEADER
    for line, row in enumerate(rows, start=2):
        assert row["text"].strip() == row["text"] != "", f"{split}.tsv line {line}"
        assert re.fullmatch(r"[a-z][a-z0-9_]*", row["label"]), f"{split}.tsv line {line}"
        assert row["language"] in LANGUAGES, f"{split}.tsv line {line}"
        assert '"' not in row["text"], f"{split}.tsv line {line}: ASCII quote"


def test_at_least_ten_intents_with_ask_time(splits: dict[str, list[dict[str, str]]]) -> None:
    labels = {row["label"] for row in splits["train"]}
    assert len(labels) >= 10
    assert "ask_time" in labels
    assert {row["label"] for row in splits["dev"]} == labels


def test_forty_train_utterances_per_intent_and_language(
    splits: dict[str, list[dict[str, str]]],
) -> None:
    counts = Counter((row["label"], row["language"]) for row in splits["train"])
    labels = {label for label, _ in counts}
    for label in labels:
        for language in LANGUAGES:
            assert counts[label, language] >= 40, (label, language, counts[label, language])


def test_dev_covers_every_intent_and_language(splits: dict[str, list[dict[str, str]]]) -> None:
    train_pairs = {(row["label"], row["language"]) for row in splits["train"]}
    dev_pairs = {(row["label"], row["language"]) for row in splits["dev"]}
    assert dev_pairs == train_pairs
    assert len(dev_pairs) == len({label for label, _ in train_pairs}) * len(LANGUAGES)


def test_no_duplicates_and_no_train_dev_overlap(splits: dict[str, list[dict[str, str]]]) -> None:
    for split, rows in splits.items():
        counts = Counter(row["text"].casefold() for row in rows)
        repeated = [text for text, n in counts.items() if n > 1]
        assert repeated == [], f"{split}.tsv repeats {repeated}"
    train = {row["text"].casefold() for row in splits["train"]}
    dev = {row["text"].casefold() for row in splits["dev"]}
    assert train & dev == set()


def test_demo_sentences_are_absent(splits: dict[str, list[dict[str, str]]]) -> None:
    texts = {row["text"].casefold() for rows in splits.values() for row in rows}
    assert texts & DEMO_SENTENCES == set()
