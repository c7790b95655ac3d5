"""Character features for classification: each word's characters read by a Bi-LSTM and joined
to its embedding, saved, loaded, traced and exported like any other classifier."""

from __future__ import annotations

import dataclasses
import json
import logging
import shutil

import pytest
import torch

import rnnkit
from rnnkit.data.batching import WordBatch
from rnnkit.diagnostics.trace import trace_text
from rnnkit.errors import ModelDirectoryError, ShapeError
from rnnkit.export.onnx import export_onnx
from rnnkit.models import ClassifierConfig, SequenceClassifier
from rnnkit.tasks.classification import ClassifyConfig, train_classifier
from tests.tasks.conftest import load_saved_in_memory, tiny_config, train_keeping_saved_weights

TEXTS = ["what time is it", "play jazz please", "is it sunny in paris", "weather"]


def with_chars(config: ClassifyConfig, setting: bool | str = True) -> ClassifyConfig:
    return dataclasses.replace(
        config, model=dataclasses.replace(config.model, char_features=setting)
    )


@pytest.fixture(scope="module")
def chars_dir(tmp_path_factory, intent_files):
    out = tmp_path_factory.mktemp("chars") / "intent"
    config = with_chars(tiny_config(*intent_files, epochs=6))
    return train_keeping_saved_weights(train_classifier, config, out)


def test_the_directory_holds_the_character_vocabulary_the_weights_were_built_for(chars_dir):
    saved = json.loads((chars_dir / "config.json").read_text())
    chars = json.loads((chars_dir / "chars.json").read_text())
    assert saved["model"]["char_features"] is True
    assert saved["model"]["char_vocab_size"] == len(chars["tokens"]) > 20
    assert saved["data"]["max_word_chars"] == 20


def test_loading_gives_the_saved_models_predictions(chars_dir):
    loaded, saved = rnnkit.load(chars_dir), load_saved_in_memory(chars_dir)
    assert loaded.model.chars is not None
    torch.testing.assert_close(
        loaded.probabilities(TEXTS), saved.probabilities(TEXTS), rtol=0, atol=0
    )


def test_the_characters_change_the_prediction(chars_dir):
    classifier = rnnkit.load(chars_dir)
    before = classifier.probabilities(["zzqx"])
    torch.nn.init.normal_(classifier.model.chars.embedding.weight)
    assert not torch.allclose(before, classifier.probabilities(["zzqx"]))


def test_learns_the_tiny_intents(chars_dir):
    labels = [p.label for p in rnnkit.load(chars_dir).predict(["what time is it", "play jazz"])]
    assert labels == ["ask_time", "play_music"]


def test_a_batch_predicts_as_one_text_at_a_time(chars_dir):
    classifier = rnnkit.load(chars_dir)
    together = classifier.probabilities(TEXTS)
    alone = torch.cat([classifier.probabilities([text]) for text in TEXTS])
    torch.testing.assert_close(together, alone, rtol=1e-5, atol=1e-6)


def test_the_trace_reads_characters_and_ends_on_the_prediction(chars_dir):
    classifier = rnnkit.load(chars_dir)
    trace = trace_text(classifier, "is it sunny in paris")
    assert [step.token for step in trace.steps] == ["is", "it", "sunny", "in", "paris"]
    assert trace.label == classifier.predict(["is it sunny in paris"])[0].label


def test_onnx_export_reproduces_the_torch_probabilities(chars_dir, tmp_path):
    directory = tmp_path / "copy"
    shutil.copytree(chars_dir, directory)
    export_onnx(directory)
    torch_model = rnnkit.load(directory)
    onnx_model = rnnkit.load(directory, runtime="onnx")
    torch.testing.assert_close(
        onnx_model.probabilities(TEXTS), torch_model.probabilities(TEXTS), rtol=1e-4, atol=1e-5
    )


def test_a_missing_character_vocabulary_is_named(chars_dir, tmp_path):
    directory = tmp_path / "copy"
    shutil.copytree(chars_dir, directory)
    (directory / "chars.json").unlink()
    with pytest.raises(ModelDirectoryError, match="not a complete model directory: missing chars"):
        rnnkit.load(directory)


def test_auto_turns_them_on_for_words_and_off_for_single_characters(intent_files, tmp_path, caplog):
    config = with_chars(tiny_config(*intent_files, epochs=1), "auto")
    with caplog.at_level(logging.INFO, logger="rnnkit"):
        train_classifier(config, tmp_path / "words", progress=False)
    assert "char features auto → on" in caplog.text
    assert (tmp_path / "words" / "chars.json").is_file()
    by_char = dataclasses.replace(config.data, tokenizer="char")
    train_classifier(
        dataclasses.replace(config, data=by_char), tmp_path / "letters", progress=False
    )
    saved = json.loads((tmp_path / "letters" / "config.json").read_text())
    assert saved["model"]["char_features"] is False
    assert not (tmp_path / "letters" / "chars.json").exists()


def test_the_default_recipe_decides_character_features_from_the_data():
    model = ClassifyConfig().model
    assert (model.char_features, model.pooling, model.embedding_dropout) == ("auto", "max", 0.2)


def test_the_model_asks_for_characters_when_it_reads_them():
    config = ClassifierConfig(
        vocab_size=10, num_classes=2, embedding_dim=4, hidden_size=4, char_features=True,
        char_vocab_size=6,
    )  # fmt: skip
    model = SequenceClassifier(config)
    tokens, lengths = torch.tensor([[4, 5, 6]]), torch.tensor([3])
    with pytest.raises(ShapeError, match=r"char_ids: expected a tensor .* got None"):
        model(WordBatch(tokens, lengths))
    plain = SequenceClassifier(dataclasses.replace(config, char_features=False))
    with pytest.raises(ShapeError, match="this model has no character features"):
        plain(WordBatch(tokens, lengths, torch.ones(1, 3, 2, dtype=torch.long), torch.ones(1, 3)))
    chars = model(
        WordBatch(tokens, lengths, torch.ones(1, 3, 2, dtype=torch.long), torch.full((1, 3), 2))
    )
    assert chars.shape == (1, 2)
