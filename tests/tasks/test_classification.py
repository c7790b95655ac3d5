"""The classification task's contract: train → save → load → same predictions, and more."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch

import rnnkit
from rnnkit.data import TextExample
from rnnkit.errors import ConfigError, DataError, ModelDirectoryError
from rnnkit.tasks.classification import Classifier, train_classifier
from tests.tasks.conftest import load_saved_in_memory, tiny_config
from tests.tasks.tagging_data import write_slot_folder


def test_model_directory_holds_json_and_safetensors_only(trained_dir):
    names = {path.name for path in trained_dir.iterdir() if path.is_file()}
    assert {
        "config.json",
        "vocab.json",
        "labels.json",
        "model.safetensors",
        "metrics.jsonl",
    } <= names
    config = json.loads((trained_dir / "config.json").read_text())
    assert config["task"] == "classify"
    assert config["model"]["num_classes"] == 3
    assert config["tokenizer"]["name"] == "word"
    assert {"rnnkit_version", "torch_version"} <= set(config)
    assert not list(trained_dir.rglob("*.pt")) and not list(trained_dir.rglob("*.pkl"))


def test_learns_the_tiny_intents(trained_dir):
    classifier = rnnkit.load(trained_dir)
    assert isinstance(classifier, Classifier)
    texts = ["what is the time", "will it rain in paris", "play jazz"]
    predictions = classifier.predict(texts)
    assert [p.label for p in predictions] == ["ask_time", "weather", "play_music"]
    # each probability is the predicted label's, the largest of its row
    rows = classifier.probabilities(texts)
    labels = [classifier.labels.index[p.label] for p in predictions]
    assert [p.probability for p in predictions] == rows[range(3), labels].tolist()
    assert labels == rows.argmax(-1).tolist()


def test_save_load_gives_the_saved_models_predictions(trained_dir):
    loaded, in_memory = rnnkit.load(trained_dir), load_saved_in_memory(trained_dir)
    texts = ["tell me the time", "is it sunny", "start the song please"]
    torch.testing.assert_close(
        loaded.probabilities(texts), in_memory.probabilities(texts), rtol=0, atol=0
    )


def test_batch_prediction_equals_one_at_a_time(trained_dir):
    classifier = rnnkit.load(trained_dir)
    texts = ["time", "what time is it now please", "weather", "play some music for me"]
    together = classifier.probabilities(texts)
    alone = torch.cat([classifier.probabilities([text]) for text in texts])
    torch.testing.assert_close(together, alone, atol=1e-6, rtol=0)


def test_top_k_is_sorted_and_sums_below_one(trained_dir):
    prediction = rnnkit.load(trained_dir).predict(["what time is it"], top_k=5)[0]
    assert len(prediction.top) == 3  # capped at the number of classes
    probabilities = [p for _, p in prediction.top]
    assert probabilities == sorted(probabilities, reverse=True)
    assert sum(probabilities) == pytest.approx(1.0, abs=1e-5)


def test_same_seed_same_metrics(tmp_path, intent_files):
    first = train_classifier(tiny_config(*intent_files, epochs=2), tmp_path / "a", progress=False)
    second = train_classifier(tiny_config(*intent_files, epochs=2), tmp_path / "b", progress=False)
    assert first.best_metrics == second.best_metrics
    assert (tmp_path / "a" / "model.safetensors").read_bytes() == (
        tmp_path / "b" / "model.safetensors"
    ).read_bytes()


def test_evaluate_counts_unknown_labels_as_errors_or_rejects_them(trained_dir, caplog):
    classifier = rnnkit.load(trained_dir)
    examples = [TextExample("what time is it", "ask_time"), TextExample("play jazz", "play_music")]
    report = classifier.evaluate(examples)
    assert report["n"] == 2 and report["accuracy"] == 1.0 and report["n_unknown_label"] == 0
    assert set(report["per_class"]) == {"ask_time", "weather", "play_music"}
    unknown = [*examples, TextExample("book a flight", "travel", path="dev.csv", line=7)]
    with pytest.raises(DataError, match=r"^dev.csv:7: unknown label 'travel': not seen in train"):
        classifier.evaluate(unknown, unknown_labels="error")
    with caplog.at_level("WARNING", logger="rnnkit"):
        counted = classifier.evaluate(unknown)
    assert [r.getMessage() for r in caplog.records] == [
        "1 label unseen in training (first at dev.csv:7: 'travel'); counted as errors "
        "(--unknown-labels error stops instead)"
    ]
    assert counted["n"] == 3 and counted["n_unknown_label"] == 1
    assert counted["accuracy"] == pytest.approx(2 / 3)
    # The unseen label is a class of its own: support 1, never predicted.
    assert counted["per_class"]["travel"] == {
        "precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1
    }  # fmt: skip


def test_empty_text_is_a_clear_error(trained_dir):
    with pytest.raises(DataError, match=r"text 2 \('  '\) has no tokens to classify"):
        rnnkit.load(trained_dir).predict(["time", "  "])


def test_incomplete_model_directory(tmp_path, trained_dir):
    with pytest.raises(ModelDirectoryError, match="model directory not found"):
        rnnkit.load(tmp_path / "nowhere")
    partial = tmp_path / "partial"
    partial.mkdir()
    (partial / "config.json").write_text((trained_dir / "config.json").read_text())
    with pytest.raises(
        ModelDirectoryError, match=r"missing vocab.json, labels.json, model.safetensors"
    ):
        rnnkit.load(partial)
    with pytest.raises(
        ConfigError,
        match=r"runtime: expected one of \['torch', 'onnx', 'onnx-int8'\], got 'tensorrt'",
    ):
        rnnkit.load(trained_dir, runtime="tensorrt")


def test_a_layer_norm_zoneout_model_loads_back_with_its_predictions(intent_files, tmp_path):
    config = tiny_config(*intent_files, epochs=1)
    model = dataclasses.replace(config.model, cell="lstm", layer_norm=True, zoneout=0.2)
    train_classifier(dataclasses.replace(config, model=model), tmp_path, progress=False)
    saved = json.loads((tmp_path / "config.json").read_text())
    assert saved["fast_path"].endswith("Python loop (forced by model.zoneout=0.2)")
    first, second = rnnkit.load(tmp_path), rnnkit.load(tmp_path)
    assert "layer_norm_l0.ih.weight" in dict(first.model.encoder.rnn.named_parameters())
    texts = ["what time is it", "play jazz"]
    torch.testing.assert_close(
        first.probabilities(texts), second.probabilities(texts), rtol=0, atol=0
    )


def test_training_data_with_one_label_is_a_clear_error(tmp_path):
    data = tmp_path / "one.csv"
    data.write_text("text,label\nhello there,greet\nhi,greet\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"one\.csv: every training example has the label 'greet'"):
        train_classifier(tiny_config(data, data, epochs=1), tmp_path / "run", progress=False)


def test_data_normalize_reaches_the_saved_tokenizer(intent_files, tmp_path):
    config = tiny_config(*intent_files, epochs=1)
    folded = dataclasses.replace(config, data=dataclasses.replace(config.data, normalize="NFKC"))
    train_classifier(folded, tmp_path / "run", progress=False)
    classifier = rnnkit.load(tmp_path / "run")
    assert classifier.tokenizer.to_config()["normalize"] == "NFKC"
    assert classifier.tokenize(["ｐｌａｙ ｊａｚｚ"]) == [["play", "jazz"]]  # full-width folded
    wrong = dataclasses.replace(config, data=dataclasses.replace(config.data, normalize="nfc"))
    with pytest.raises(ConfigError, match="unknown Unicode normal form 'nfc'"):
        train_classifier(wrong, tmp_path / "wrong", progress=False)


def test_given_tokens_are_prepared_as_prediction_prepares_raw_text(tmp_path):
    # an intent folder whose tokens keep their case and carry a decomposed accent: training
    # reads them lower-cased and in NFC, as the saved tokenizer reads raw text at prediction
    folder = write_slot_folder(tmp_path / "intents", 1, 0)
    seq_in = folder / "seq.in"
    lines = seq_in.read_text(encoding="utf-8").splitlines()
    seq_in.write_text("".join(f"Zu\u0308rich {line.title()}\n" for line in lines), encoding="utf-8")
    out_lines = (folder / "seq.out").read_text(encoding="utf-8").splitlines()
    (folder / "seq.out").write_text("".join(f"O {tags}\n" for tags in out_lines), encoding="utf-8")
    train_classifier(tiny_config(folder, folder, epochs=1), tmp_path / "run", progress=False)
    classifier = rnnkit.load(tmp_path / "run")
    tokens = classifier.vocab.tokens
    assert "z\u00fcrich" in tokens and not any(token != token.lower() for token in tokens)
    words = classifier.tokenize([lines[0].title()])[0]
    assert all(word in tokens for word in words)  # no word of a training sentence is unknown
