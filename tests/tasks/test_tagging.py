"""The tagging tasks (``tag`` and ``joint``): training, the model directory, prediction with
character-offset spans, evaluation with seqeval, and their errors."""

from __future__ import annotations

import dataclasses
import json
import unicodedata

import pytest

import rnnkit
from rnnkit.data import TaggedExample
from rnnkit.data.tokenizers import get_tokenizer
from rnnkit.errors import ConfigError, DataError, ModelDirectoryError
from rnnkit.tasks.tagging import JointTagger, Tagger, character_spans
from rnnkit.tasks.tagging_train import TagDataSettings, train_tagger
from tests.tasks.tagging_data import tiny_tag_config


def test_model_directory_holds_json_and_safetensors_only(tagger_dir, joint_dir):
    for directory, task, extra in (
        (tagger_dir, "tag", "chars.json"),
        (joint_dir, "joint", "intents.json"),
    ):
        names = {path.name for path in directory.iterdir() if path.is_file()}
        assert {"config.json", "vocab.json", "labels.json", "model.safetensors", extra} <= names
        assert json.loads((directory / "config.json").read_text())["task"] == task
        assert not list(directory.rglob("*.pt")) and not list(directory.rglob("*.pkl"))


def test_tagger_learns_names_and_two_token_places(tagger_dir):
    tagger = rnnkit.load(tagger_dir)
    assert isinstance(tagger, Tagger)
    prediction = tagger.predict(["Chloe lives in New Rome."])[0]
    assert prediction.tokens == ["Chloe", "lives", "in", "New", "Rome", "."]
    assert prediction.spans == [
        {"type": "PER", "text": "Chloe", "start": 0, "end": 5},
        {"type": "LOC", "text": "New Rome", "start": 15, "end": 23},
    ]


def test_joint_model_predicts_intent_and_slots(joint_dir):
    parser = rnnkit.load(joint_dir)
    assert isinstance(parser, JointTagger)
    result = parser.predict(["how much is a ticket from dallas to seattle"])[0].to_dict()
    assert result["intent"] == "fare" and 0.5 < result["intent_prob"] <= 1
    assert [(s["type"], s["text"]) for s in result["slots"]] == [
        ("from", "dallas"),
        ("to", "seattle"),
    ]
    assert result["slots"][0]["start"] == len("how much is a ticket from ")


def test_evaluate_reports_seqeval_and_joint_scores(
    tagger_dir, joint_dir, conll_files, slot_folders
):
    report = rnnkit.load(tagger_dir).evaluate_file(str(conll_files[1]), _options())
    assert report["f1"] == 1.0 and report["n"] == 16
    assert set(report["per_type"]) == {"PER", "LOC"} and report["per_type"]["LOC"]["support"] == 16
    joint = rnnkit.load(joint_dir).evaluate_file(str(slot_folders[1]), _options())
    assert joint["intent_accuracy"] == 1.0 and joint["sentence_accuracy"] == 1.0
    assert joint["f1"] == 1.0


def test_unknown_tag_at_evaluation_names_its_location(tagger_dir):
    tagger = rnnkit.load(tagger_dir)
    examples = [TaggedExample(["Anna", "sings"], ["B-PER", "B-SONG"], None, "dev.tsv", 7)]
    with pytest.raises(
        DataError, match=r"^dev.tsv:7: unknown tag 'B-SONG' \(token 2, 'sings'\): not seen in"
    ):
        tagger.evaluate(examples, unknown_labels="error")
    report = tagger.evaluate(examples)
    assert report["recall"] == 0.5  # the SONG entity is missed, PER found
    assert report["n_unknown_tag"] == 1 and "n_unknown_label" not in report


def test_same_seed_same_model(tmp_path, conll_files):
    config = tiny_tag_config(*conll_files)
    first = train_tagger(config, tmp_path / "a", progress=False).best_metrics
    second = train_tagger(config, tmp_path / "b", progress=False).best_metrics
    assert first == second
    assert (tmp_path / "a" / "model.safetensors").read_bytes() == (
        tmp_path / "b" / "model.safetensors"
    ).read_bytes()


def test_invalid_bio_in_training_data_is_counted_and_located(tmp_path, conll_files):
    train = tmp_path / "bad.tsv"
    train.write_text("Anna\tI-PER\nsings\tO\n\nBen\tB-PER\n\nRome\tI-LOC\nNew\tI-LOC\n")
    config = tiny_tag_config(train, conll_files[1])
    config = dataclasses.replace(config, data=dataclasses.replace(config.data, invalid_bio="error"))
    with pytest.raises(DataError) as error:
        train_tagger(config, tmp_path / "m", progress=False)
    message = str(error.value)
    assert "2 invalid BIO tags" in message and "in 2 sentences" in message
    assert f"{train}:1 token 1 ('Anna' tagged 'I-PER')" in message
    assert "--set data.invalid_bio=repair" in message


def test_invalid_bio_is_repaired_by_default_and_trains(tmp_path, conll_files, caplog):
    assert TagDataSettings().invalid_bio == "repair"
    train = tmp_path / "bad.tsv"
    train.write_text(conll_files[0].read_text().replace("B-PER", "I-PER"))
    config = tiny_tag_config(train, conll_files[1])
    assert config.data.invalid_bio == "repair"
    with caplog.at_level("WARNING", logger="rnnkit"):
        result = train_tagger(config, tmp_path / "m", progress=False)
    assert "48 invalid BIO tags" in caplog.text and "repaired" in caplog.text
    assert result.best_metrics["f1"] > 0.9


def test_settings_and_model_directory_errors(tmp_path, tagger_dir, slot_folders):
    with pytest.raises(ConfigError, match=r"data.tokenizer: expected one of .* got 'bpe'"):
        TagDataSettings(tokenizer="bpe")
    with pytest.raises(ConfigError, match=r"data.invalid_bio: expected one of .* got 'fix'"):
        TagDataSettings(invalid_bio="fix")
    broken = tmp_path / "broken"
    broken.mkdir()
    for path in tagger_dir.iterdir():
        if path.is_file() and path.name != "chars.json":
            (broken / path.name).write_bytes(path.read_bytes())
    with pytest.raises(ModelDirectoryError, match=r"missing chars\.json"):
        rnnkit.load(broken)
    with pytest.raises(DataError, match="has no tokens to tag"):
        rnnkit.load(tagger_dir).predict(["   "])


def test_joint_training_needs_intents(tmp_path, conll_files):
    from tests.tasks.tagging_data import tiny_joint_config

    with pytest.raises(DataError, match="joint training needs an intent for every sentence"):
        train_tagger(tiny_joint_config(*conll_files), tmp_path / "m", progress=False)


def test_character_spans_follow_the_text():
    text = "Flights  from Boston,to New York"
    tokens = ["Flights", "from", "Boston", ",", "to", "New", "York"]
    tags = ["O", "O", "B-from", "O", "O", "B-to", "I-to"]
    spans = character_spans(text, tokens, tags)
    assert [(s["text"], text[s["start"] : s["end"]]) for s in spans] == [
        ("Boston", "Boston"),
        ("New York", "New York"),
    ]


def test_character_spans_point_into_decomposed_text():
    text = unicodedata.normalize("NFD", "Flights from Zürich to Hà Nội")
    tokenizer = get_tokenizer("word")  # NFC: the tokens are precomposed
    tokens = tokenizer.tokenize(text)
    tags = ["O", "O", "B-from", "O", "B-to", "I-to"]
    spans = character_spans(text, tokens, tags, tokenizer.prepare)
    assert [(s["text"], text[s["start"] : s["end"]]) for s in spans] == [
        (unicodedata.normalize("NFD", "Zürich"), unicodedata.normalize("NFD", "Zürich")),
        (unicodedata.normalize("NFD", "Hà Nội"), unicodedata.normalize("NFD", "Hà Nội")),
    ]
    # without the tokenizer's normalisation the tokens are not found, and the spans drift
    assert character_spans(text, tokens, tags)[1]["text"] != spans[1]["text"]


def _options():
    from rnnkit.tasks.common import EvaluateOptions

    return EvaluateOptions()


def test_loaded_model_reproduces_the_best_dev_scores(
    tagger_dir, joint_dir, conll_files, slot_folders
):
    for directory, dev, key in (
        (tagger_dir, conll_files[1], "f1"),
        (joint_dir, slot_folders[1], "sentence_accuracy"),
    ):
        records = [
            json.loads(line) for line in (directory / "metrics.jsonl").read_text().splitlines()
        ]
        best = max(record[f"dev_{key}"] for record in records if f"dev_{key}" in record)
        report = rnnkit.load(directory).evaluate_file(str(dev), _options())
        assert report[key] == pytest.approx(best, abs=1e-9)


def test_given_tokens_are_read_in_the_normal_form_of_prediction(conll_files, tmp_path):
    # a CoNLL file written in NFD: training, evaluation and prediction all read NFC tokens
    decomposed = tmp_path / "nfd.tsv"
    text = conll_files[0].read_text(encoding="utf-8").replace("Paris", "Pa\u0301ris")
    decomposed.write_text(text, encoding="utf-8")
    config = tiny_tag_config(decomposed, decomposed)
    config = dataclasses.replace(config, trainer=dataclasses.replace(config.trainer, epochs=1))
    train_tagger(config, tmp_path / "run", progress=False)
    tagger = rnnkit.load(tmp_path / "run")
    assert "p\u00e1ris" in tagger.encoding.vocab.tokens  # looked up lower-cased, in NFC
    assert not any("\u0301" in token for token in tagger.encoding.vocab.tokens)
    (prediction,) = tagger.predict(["Anna lives in New Pa\u0301ris ."])
    assert prediction.tokens[4] == "P\u00e1ris"
