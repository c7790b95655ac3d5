"""The contract every task's predictor keeps: train → save → load predicts as the saved model,
a batch predicts as its texts one at a time, and predictions are JSON-able.

Add a task by adding its trained-directory fixture and texts to ``CASES``.
"""

from __future__ import annotations

import json

import pytest
import torch

import rnnkit
from tests.tasks.conftest import SAVED_WEIGHTS, load_saved_in_memory

CASES = {  # task -> (fixture giving its trained model directory, texts to predict)
    "classify": ("trained_dir", ["what time is it", "is it sunny", "play jazz now please"]),
    "tag": ("tagger_dir", ["Anna lives in New Oslo .", "Ben lives in Paris", "David"]),
    "joint": ("joint_dir", ["fly from boston to denver", "how much is a ticket from rome", "x"]),
    "translate": ("translator_dir", ["i see the big cat .", "a red house .", "the dog ."]),
}

# What each fixture's model trains on (its cells; the translator's decoder included).
FAST_PATHS = {
    "classify": "fast path: encoder.rnn GRU → ATen GRU",
    "tag": "fast path: chars.rnn LSTM → oneDNN LSTM; encoder.rnn LSTM → oneDNN LSTM",
    "joint": "fast path: encoder.rnn LSTM → oneDNN LSTM",
    "translate": "fast path: encoder.rnn GRU → ATen GRU; decoder.rnn GRU → ATen GRU",
}


@pytest.fixture(params=sorted(CASES))
def case(request):
    fixture, texts = CASES[request.param]
    return request.param, request.getfixturevalue(fixture), texts


def predictions(directory, texts):
    return [prediction.to_dict() for prediction in rnnkit.load(directory).predict(texts)]


def test_loaded_predicts_as_the_model_that_was_saved(case):
    task, directory, texts = case
    assert rnnkit.load(directory).task == task
    in_memory = [p.to_dict() for p in load_saved_in_memory(directory).predict(texts)]
    assert predictions(directory, texts) == in_memory
    loaded = rnnkit.load(directory).model.state_dict()  # spans can hide a changed weight
    assert all(torch.equal(loaded[name], w) for name, w in SAVED_WEIGHTS[directory].items())


def test_batch_predicts_as_one_at_a_time(case):
    _, directory, texts = case
    predictor = rnnkit.load(directory)
    together = [p.to_dict() for p in predictor.predict(texts)]
    alone = [predictor.predict([text])[0].to_dict() for text in texts]
    assert _rounded(together) == _rounded(alone)


def test_predictions_are_json(case):
    _, directory, texts = case
    assert json.loads(json.dumps(predictions(directory, texts))) == predictions(directory, texts)


def _rounded(value):
    """Probabilities to 5 decimals: batching may change float sums in the last bits."""
    if isinstance(value, float):
        return round(value, 5)
    if isinstance(value, dict):
        return {key: _rounded(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_rounded(item) for item in value]
    return value


def test_training_drew_its_curves(case):
    """Every task's run ends with ``curves.png`` (the trainer draws it at fit end)."""
    _, directory, _ = case
    curves = (directory / "curves.png").read_bytes()
    assert curves[:8] == b"\x89PNG\r\n\x1a\n" and len(curves) > 1000


@pytest.mark.skipif(not torch.backends.mkldnn.is_available(), reason="torch built without oneDNN")
def test_config_records_the_fast_path_of_training(case):
    task, directory, _ = case
    line = json.loads((directory / "config.json").read_text())["fast_path"]
    assert line == FAST_PATHS[task]
