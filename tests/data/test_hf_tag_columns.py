"""Tagging columns of an ``hf:`` data set named on the command line (``--tokens-column``,
``--tags-column``, ``--intent-column``) for ``rnnkit train tag/joint`` and ``rnnkit evaluate``,
tested offline on folders written by ``save_to_disk``."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from rnnkit.cli import app
from rnnkit.data import read_tagging
from rnnkit.errors import DataError

datasets = pytest.importorskip("datasets")
pytestmark = pytest.mark.usefixtures("hf_offline")  # no code path here may reach the network
runner = CliRunner()
TINY = ["--cell", "gru", "--hidden-size", "16", "--embedding-dim", "16", "--batch-size", "8"]
SENTENCES = [
    (["play", "jazz", "now"], ["O", "B-genre", "O"], "play"),
    (["play", "rock"], ["O", "B-genre"], "play"),
    (["book", "a", "table", "in", "paris"], ["O", "O", "O", "O", "B-city"], "book"),
    (["book", "rome"], ["O", "B-city"], "book"),
]
# Column names no guess finds: the tokens, the tags and the intent.
NAMES = ("utterance", "bio", "goal")


def save(folder, names, copies=1):
    """The sentences as a data set with the columns ``names``, saved to ``folder``."""
    columns = [list(column) for column in zip(*(SENTENCES * copies), strict=True)]
    datasets.Dataset.from_dict(dict(zip(names, columns, strict=True))).save_to_disk(str(folder))
    return folder


@pytest.fixture(scope="module")
def slots(tmp_path_factory):
    return save(tmp_path_factory.mktemp("hf") / "slots", NAMES, copies=4)


def test_named_columns_are_read_and_unguessable_ones_are_an_error(slots):
    spec = f"hf:{slots}:train"
    examples, _ = read_tagging(
        spec, tokens_column="utterance", tags_column="bio", intent_column="goal"
    )
    assert (examples[2].tokens, examples[2].tags, examples[2].intent) == SENTENCES[2]
    with pytest.raises(DataError) as error:
        read_tagging(spec)
    assert str(error.value) == (
        f"{spec}:1: no tokens column: expected one of ['tokens', 'words'] in the header, found "
        "['utterance', 'bio', 'goal'] (--tokens-column on the command line, tokens_column=... in "
        "Python)"
    )


def test_a_missing_named_column_is_one_error_line(slots, tmp_path):
    data = ["--train", f"hf:{slots}:train", "--dev", f"hf:{slots}:train"]
    result = runner.invoke(
        app, ["train", "tag", *data, "--tokens-column", "utterance", "--tags-column", "tags",
              "--out", str(tmp_path / "m"), "--no-progress"],
    )  # fmt: skip
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1] == (
        f"error: hf:{slots}:train:1: missing tags column 'tags'; the header has "
        "['utterance', 'bio', 'goal']"
    )
    result = runner.invoke(
        app, ["train", "joint", *data, "--tokens-column", "utterance", "--tags-column", "bio",
              "--intent-column", "intent", "--out", str(tmp_path / "m"), "--no-progress"],
    )  # fmt: skip
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1] == (
        f"error: hf:{slots}:train:1: missing intent column 'intent'; the data has "
        "['utterance', 'bio', 'goal']"
    )


def test_train_joint_then_evaluate_with_training_or_named_columns(slots, tmp_path):
    out = tmp_path / "joint"
    data = ["--train", f"hf:{slots}:train", "--dev", f"hf:{slots}:train"]
    columns = ["--tokens-column", "utterance", "--tags-column", "bio", "--intent-column", "goal"]
    result = runner.invoke(
        app, ["train", "joint", *data, *columns, "--out", str(out), "--epochs", "2", *TINY,
              "--no-progress"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    intents = json.loads((out / "intents.json").read_text())
    assert {"book", "play"} <= set(intents if isinstance(intents, list) else intents["labels"])
    # Evaluation reads the columns training read ...
    result = runner.invoke(app, ["evaluate", str(out), f"hf:{slots}:train", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["n"] == 4 * len(SENTENCES)
    # ... which another data set may not have: then they are named.
    renamed = f"hf:{save(tmp_path / 'renamed', ('tokens', 'tags', 'intent'))}:train"
    result = runner.invoke(app, ["evaluate", str(out), renamed, "--json"])
    assert result.exit_code == 1
    assert "missing tokens column 'utterance'" in result.output
    named = ["--tokens-column", "tokens", "--tags-column", "tags", "--intent-column", "intent"]
    result = runner.invoke(app, ["evaluate", str(out), renamed, "--json", *named])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["n"] == len(SENTENCES) and "intent_accuracy" in report
    # diagnose gradients reads the data as training did.
    diagnose = ["diagnose", "gradients", str(out), "--data", f"hf:{slots}:train", "--examples"]
    result = runner.invoke(app, [*diagnose, "4", "--out", str(tmp_path / "flow")])
    assert result.exit_code == 0, result.output
    settings = json.loads((tmp_path / "flow" / "gradients.json").read_text())["settings"]
    assert settings["examples"] == 4


def test_only_joint_has_an_intent_column_option():
    joint = runner.invoke(app, ["train", "joint", "--help"], env={"COLUMNS": "250"})
    tag = runner.invoke(app, ["train", "tag", "--help"], env={"COLUMNS": "250"})
    assert "--tokens-column" in tag.output and "--tags-column" in tag.output
    assert "--intent-column" in joint.output and "--intent-column" not in tag.output
