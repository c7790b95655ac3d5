"""``hf:NAME[:CONFIG]:SPLIT`` translation pairs, tested offline on folders written by
``save_to_disk``: `read_parallel`, ``rnnkit train translate`` and ``rnnkit evaluate``."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from rnnkit.cli import app
from rnnkit.data import read_parallel
from rnnkit.errors import DataError

datasets = pytest.importorskip("datasets")
pytestmark = pytest.mark.usefixtures("hf_offline")  # no code path here may reach the network
runner = CliRunner()
PAIRS = [
    ("i am cold .", "j'ai froid ."),
    ("i am here .", "je suis là ."),
    ("he is cold .", "il a froid ."),
    ("he is here .", "il est là ."),
]
TINY = ["--cell", "gru", "--hidden-size", "16", "--embedding-dim", "16", "--batch-size", "4"]


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    """The Hub's layout of translation data (opus_books, wmt14): one `Translation` column of
    {language: text}; train (4 copies) and validation splits."""
    features = datasets.Features({"translation": datasets.Translation(languages=["en", "fr"])})

    def split(copies):
        rows = [{"en": en, "fr": fr} for en, fr in PAIRS * copies]
        return datasets.Dataset.from_dict({"translation": rows}, features=features)

    folder = tmp_path_factory.mktemp("hf") / "books"
    datasets.DatasetDict({"train": split(4), "validation": split(1)}).save_to_disk(str(folder))
    return folder


@pytest.fixture(scope="module")
def columns(tmp_path_factory):
    """Plain text columns: one per language, and two of other names."""
    english, french = zip(*PAIRS, strict=True)
    data = datasets.Dataset.from_dict(
        {"en": list(english), "fr": list(french), "question": list(english), "answer": [""] * 4}
    )
    folder = tmp_path_factory.mktemp("hf") / "columns"
    data.save_to_disk(str(folder))
    return folder


def test_a_translation_column_is_read_at_the_two_languages(books):
    examples, report = read_parallel(f"hf:{books}:validation", source_lang="en", target_lang="fr")
    assert [(e.source, e.target) for e in examples] == PAIRS
    assert (examples[1].path, examples[1].line) == (f"hf:{books}:validation", 2)
    assert report.examples == len(PAIRS)
    reverse, _ = read_parallel(f"hf:{books}:validation", source_lang="fr", target_lang="en")
    assert reverse[0].source == "j'ai froid ." and reverse[0].target == "i am cold ."


def test_a_translation_column_needs_the_languages(books):
    with pytest.raises(DataError) as error:
        read_parallel(f"hf:{books}:validation")
    assert str(error.value) == (
        f"hf:{books}:validation: source column 'translation' holds a text per language "
        "['en', 'fr']; got source language None (give it with --source LANG, or source_lang=...)"
    )
    with pytest.raises(DataError, match=r"target column 'translation' .* got target language 'de'"):
        read_parallel(f"hf:{books}:validation", source_lang="en", target_lang="de")


def test_text_columns_by_language_or_by_name(columns):
    spec = f"hf:{columns}:train"
    by_language, _ = read_parallel(spec, source_lang="fr", target_lang="en")
    assert [(e.source, e.target) for e in by_language] == [(fr, en) for en, fr in PAIRS]
    by_name, _ = read_parallel(spec, source_column="question", target_column="fr")
    assert [(e.source, e.target) for e in by_name] == PAIRS


def test_a_named_column_that_is_missing_names_the_columns_there(columns):
    spec = f"hf:{columns}:train"
    with pytest.raises(DataError) as error:
        read_parallel(spec, source_column="english", target_column="fr")
    assert str(error.value) == (
        f"{spec}:1: missing source column 'english'; the header has "
        "['en', 'fr', 'question', 'answer']"
    )
    with pytest.raises(DataError, match=r"no target column: expected one of \['target', 'tgt'"):
        read_parallel(spec, source_column="question")


def test_empty_sides_raise_or_are_skipped(columns):
    spec = f"hf:{columns}:train"
    with pytest.raises(DataError, match=r":train:1: empty target sentence"):
        read_parallel(spec, source_column="question", target_column="answer")
    examples, report = read_parallel(spec, "skip", source_column="en", target_column="answer")
    assert examples == [] and report.skipped == len(PAIRS)


def test_train_and_evaluate_translate_on_hf_data(books, columns, tmp_path):
    out = tmp_path / "en-fr"
    data = ["--train", f"hf:{books}:train", "--dev", f"hf:{books}:validation"]
    result = runner.invoke(
        app, ["train", "translate", *data, "--source", "en", "--target", "fr", "--out", str(out),
              "--epochs", "1", *TINY, "--no-progress"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    saved = json.loads((out / "config.json").read_text())["data"]
    assert (saved["source_lang"], saved["target_lang"]) == ("en", "fr")
    diagnose = ["diagnose", "gradients", str(out), "--data", f"hf:{books}:validation"]
    result = runner.invoke(app, [*diagnose, "--out", str(tmp_path / "flow")])
    assert result.exit_code == 0, result.output
    settings = json.loads((tmp_path / "flow" / "gradients.json").read_text())["settings"]
    assert settings["examples"] == len(PAIRS)
    # The languages training read pick the columns of another data set too ...
    result = runner.invoke(app, ["evaluate", str(out), f"hf:{columns}:train", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["n"] == len(PAIRS)
    # ... or the columns are named.
    result = runner.invoke(
        app, ["evaluate", str(out), f"hf:{columns}:train", "--json", "--source-column",
              "question", "--target-column", "fr", "--beam", "1"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["n"] == len(PAIRS) and 0 <= report["bleu"] <= 100
    # ... and so are the languages read in a translation column.
    validation = f"hf:{books}:validation"
    swapped = ["--source", "fr", "--target", "en", "--beam", "1"]
    result = runner.invoke(app, ["evaluate", str(out), validation, "--json", *swapped])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["n"] == len(PAIRS)
    result = runner.invoke(app, ["evaluate", str(out), validation, "--target", "de"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1] == (
        f"error: {validation}: target column 'translation' holds a text per language "
        "['en', 'fr']; got target language 'de' (give it with --target LANG, or target_lang=...)"
    )


def test_a_missing_column_is_one_error_line(books, tmp_path):
    data = ["--train", f"hf:{books}:train", "--dev", f"hf:{books}:validation"]
    result = runner.invoke(
        app, ["train", "translate", *data, "--source-column", "english", "--out",
              str(tmp_path / "m"), "--no-progress"],
    )  # fmt: skip
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1] == (
        f"error: hf:{books}:train:1: missing source column 'english'; the header has "
        "['translation']"
    )
