"""``hf:NAME[:CONFIG]:SPLIT`` wherever a data path is read, tested offline on folders written
by ``save_to_disk``: the readers, ``rnnkit train`` and ``rnnkit evaluate``."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from rnnkit.cli import app
from rnnkit.data import read_classification, read_tagging
from rnnkit.data.hf import parse_hf_spec
from rnnkit.errors import ConfigError, DataError
from tests.tasks.conftest import PHRASES

datasets = pytest.importorskip("datasets")
pytestmark = pytest.mark.usefixtures("hf_offline")  # no code path here may reach the network
runner = CliRunner()
TINY = ["--cell", "gru", "--hidden-size", "16", "--embedding-dim", "16", "--batch-size", "8"]
TAGS = ["O", "B-PER", "B-LOC"]


@pytest.fixture(scope="module")
def intents(tmp_path_factory):
    """A DatasetDict with a ClassLabel column, saved to disk: train (4 copies) and validation."""
    names = sorted(PHRASES)
    rows = [(text, names.index(label)) for label, texts in PHRASES.items() for text in texts]
    features = datasets.Features(
        {"sentence": datasets.Value("string"), "intent": datasets.ClassLabel(names=names)}
    )

    def split(copies):
        texts, labels = zip(*(rows * copies), strict=True)
        return datasets.Dataset.from_dict(
            {"sentence": list(texts), "intent": list(labels)}, features=features
        )

    folder = tmp_path_factory.mktemp("hf") / "intents"
    datasets.DatasetDict({"train": split(4), "validation": split(1)}).save_to_disk(str(folder))
    return folder


@pytest.fixture(scope="module")
def ner(tmp_path_factory):
    """A Dataset of token lists and ClassLabel tag lists (the conll2003 layout), saved to disk."""
    features = datasets.Features(
        {
            "tokens": datasets.Sequence(datasets.Value("string")),
            "ner_tags": datasets.Sequence(datasets.ClassLabel(names=TAGS)),
        }
    )
    sentences = [(["Anna", "lives", "in", "Paris"], [1, 0, 0, 2]), (["Ben", "left"], [1, 0])]
    tokens, tags = zip(*(sentences * 8), strict=True)
    data = datasets.Dataset.from_dict(
        {"tokens": list(tokens), "ner_tags": list(tags)}, features=features
    )
    folder = tmp_path_factory.mktemp("hf") / "ner"
    data.save_to_disk(str(folder))
    return folder


def test_spec_forms_and_errors():
    assert parse_hf_spec("hf:imdb:train") == parse_hf_spec("hf:imdb:train")
    spec = parse_hf_spec("hf:glue:sst2:validation")
    assert (spec.name, spec.config, spec.split) == ("glue", "sst2", "validation")
    assert parse_hf_spec("hf:imdb:test").config is None
    for bad in ("hf:imdb", "hf:a:b:c:d", "hf::train"):
        with pytest.raises(ConfigError, match=r"expected hf:NAME:SPLIT or hf:NAME:CONFIG:SPLIT"):
            parse_hf_spec(bad)


def test_read_classification_from_a_saved_folder(intents):
    examples, report = read_classification(f"hf:{intents}:validation")
    assert len(examples) == report.examples == sum(len(texts) for texts in PHRASES.values())
    first = examples[0]
    assert first.label in PHRASES and first.text in PHRASES[first.label]
    assert first.path == f"hf:{intents}:validation" and first.line == 1
    with pytest.raises(ConfigError, match=r"split must be one of \['train', 'validation'\]"):
        read_classification(f"hf:{intents}:test")
    with pytest.raises(ConfigError, match="a saved folder has no CONFIG"):
        read_classification(f"hf:{intents}:default:train")


def test_spec_splits_keep_the_colons_of_a_slice():
    spec = parse_hf_spec("hf:imdb:train[:10%]")
    assert (spec.name, spec.config, spec.split) == ("imdb", None, "train[:10%]")
    spec = parse_hf_spec("hf:glue:sst2:validation[100:200]")
    assert (spec.name, spec.config, spec.split) == ("glue", "sst2", "validation[100:200]")
    assert parse_hf_spec("hf:a/b:train[:5]+test[-5:]").split == "train[:5]+test[-5:]"


@pytest.mark.parametrize(
    ("split", "rows"),
    [("train[:10]", range(10)), ("train[10:20]", range(10, 20)), ("train[-3:]", range(45, 48)),
     ("train[:25%]", range(12)), ("train[:2]+validation[-1:]", [0, 1, 48 + 11])],
)  # fmt: skip
def test_a_saved_folder_split_takes_the_datasets_slice_syntax(intents, split, rows):
    full = read_classification(f"hf:{intents}:train").examples
    full += read_classification(f"hf:{intents}:validation").examples
    assert len(full) == 48 + 12
    examples, report = read_classification(f"hf:{intents}:{split}")
    assert [(e.text, e.label) for e in examples] == [(full[i].text, full[i].label) for i in rows]
    assert report.examples == len(rows) and examples[0].path == f"hf:{intents}:{split}"


def test_a_saved_dataset_is_sliced_under_the_name_the_spec_gives_it(ner):
    examples, _ = read_tagging(f"hf:{ner}:train[1:4]")
    assert [len(e.tokens) for e in examples] == [2, 4, 2]


@pytest.mark.parametrize(
    ("split", "reason"),
    [("train[abc]", "Unrecognized instruction format: train[abc]"),
     ("test[:5]", 'Unknown split "test"'),
     ("train[:200%]", "Percent slice boundaries must be > -100 and < 100")],
)  # fmt: skip
def test_a_bad_slice_is_a_config_error_with_the_reason(intents, split, reason):
    expected = f"split must be one of ['train', 'validation'], got '{split}': {reason}"
    with pytest.raises(ConfigError) as caught:
        read_classification(f"hf:{intents}:{split}")
    assert str(caught.value).startswith(expected)
    assert str(caught.value).endswith(
        "(slices read as in datasets: train[:10%], train[100:200], train[:50%]+validation[:50%])"
    )


def test_read_tagging_names_class_label_tags(ner):
    examples, _ = read_tagging(f"hf:{ner}:train")
    assert examples[0].tokens == ["Anna", "lives", "in", "Paris"]
    assert examples[0].tags == ["B-PER", "O", "O", "B-LOC"] and examples[0].intent is None


def test_tagging_rows_must_match_and_skip_counts(tmp_path):
    data = datasets.Dataset.from_dict({"words": [["a", "b"], ["c"]], "tags": [["O", "O"], []]})
    data.save_to_disk(str(tmp_path / "d"))
    with pytest.raises(DataError, match=r"hf:.*:train:2: 1 tokens but 0 tags"):
        read_tagging(f"hf:{tmp_path / 'd'}:train")
    examples, report = read_tagging(f"hf:{tmp_path / 'd'}:train", on_error="skip")
    assert len(examples) == 1 and report.skipped == 1


def test_a_hub_name_offline_is_an_error_without_the_network():
    with pytest.raises(OSError, match="Couldn't reach 'no-such-user/no-such-data'"):
        read_classification("hf:no-such-user/no-such-data:train")


def test_train_and_evaluate_classify_on_hf_data(intents, tmp_path):
    out = tmp_path / "m"
    args = ["--train", f"hf:{intents}:train", "--dev", f"hf:{intents}:validation"]
    result = runner.invoke(
        app, ["train", "classify", *args, "--out", str(out), "--epochs", "4", *TINY,
              "--text-column", "sentence", "--no-progress"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["evaluate", str(out), f"hf:{intents}:validation", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["n"] == sum(len(texts) for texts in PHRASES.values())
    assert report["accuracy"] > 0.5


def test_train_tag_on_hf_data(ner, tmp_path):
    out = tmp_path / "t"
    data = ["--train", f"hf:{ner}:train", "--dev", f"hf:{ner}:train"]
    result = runner.invoke(
        app, ["train", "tag", *data, "--out", str(out), "--epochs", "2", *TINY, "--no-progress"]
    )
    assert result.exit_code == 0, result.output
    labels = json.loads((out / "labels.json").read_text())
    assert {"B-PER", "B-LOC", "O"} <= set(labels if isinstance(labels, list) else labels["labels"])
