"""Hugging Face `datasets` sources, on local CSV/JSON files (nothing can be downloaded)."""

import pytest

from rnnkit.data.readers import load_hf_dataset, read_hf_classification
from rnnkit.errors import ConfigError, DataError

datasets = pytest.importorskip("datasets")


def test_load_dataset_arguments_on_a_local_csv(tmp_path):
    path = tmp_path / "reviews.csv"
    path.write_text('review,label\n很好,1\n"bad, really",0\n', encoding="utf-8")
    examples, report = read_hf_classification(
        "csv", split="train", data_files=str(path), cache_dir=str(tmp_path / "cache")
    )
    assert [(e.text, e.label, e.line) for e in examples] == [
        ("很好", "1", 1),
        ("bad, really", "0", 2),
    ]
    assert report.examples == 2


def test_dataset_object_with_class_labels_and_token_lists():
    features = datasets.Features(
        {
            "tokens": datasets.Sequence(datasets.Value("string")),
            "intent": datasets.ClassLabel(names=["book", "play"]),
        }
    )
    data = datasets.Dataset.from_dict(
        {"tokens": [["play", "jazz"], ["book", "a", "table"]], "intent": [1, 0]}, features=features
    )
    examples, _ = read_hf_classification(data, text_column="tokens")
    assert [(e.text, e.tokens, e.label) for e in examples] == [
        ("play jazz", ["play", "jazz"], "play"),
        ("book a table", ["book", "a", "table"], "book"),
    ]


def test_json_lines_file_errors_and_skip(tmp_path):
    path = tmp_path / "d.json"
    path.write_text('{"text": "ok", "label": "a"}\n{"text": "", "label": "b"}\n', encoding="utf-8")
    loaded = load_hf_dataset("json", split="train", data_files=str(path), cache_dir=str(tmp_path))
    with pytest.raises(DataError, match=r":2: empty text"):
        read_hf_classification(loaded)
    examples, report = read_hf_classification(loaded, on_error="skip")
    assert [e.text for e in examples] == ["ok"] and report.skipped == 1
    with pytest.raises(DataError, match=r"missing text column 'review'"):
        read_hf_classification(loaded, text_column="review")


def test_dataset_dict_needs_a_known_split():
    splits = datasets.DatasetDict(
        {"train": datasets.Dataset.from_dict({"text": ["a"], "label": [0]})}
    )
    assert len(read_hf_classification(splits, split="train").examples) == 1
    with pytest.raises(ConfigError, match=r"split must be one of \['train'\], got 'test'"):
        read_hf_classification(splits, split="test")
    with pytest.raises(ConfigError, match="source must be a Dataset"):
        load_hf_dataset(42)
