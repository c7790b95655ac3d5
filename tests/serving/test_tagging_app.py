"""The service for taggers and joint intent + slot models (ONNX runtime)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

import rnnkit
from rnnkit.serving import create_app


@pytest.fixture(scope="module")
def joint_client(exported_joint_dir):
    return TestClient(create_app(rnnkit.load(exported_joint_dir, runtime="onnx"), "onnx"))


@pytest.fixture(scope="module")
def tagger_client(exported_tagger_dir):
    return TestClient(create_app(rnnkit.load(exported_tagger_dir, runtime="onnx"), "onnx"))


def test_joint_model_answers_intent_and_slots(joint_client):
    text = "how much is a ticket from dallas to seattle"
    response = joint_client.post("/predict", json={"text": text})
    assert response.status_code == 200
    [prediction] = response.json()["predictions"]
    assert prediction["intent"] == "fare" and 0.5 < prediction["intent_prob"] <= 1
    assert [(s["type"], s["text"]) for s in prediction["slots"]] == [
        ("from", "dallas"),
        ("to", "seattle"),
    ]
    assert text[prediction["slots"][1]["start"] : prediction["slots"][1]["end"]] == "seattle"
    info = joint_client.get("/info").json()
    assert info["task"] == "joint" and "fare" in info["intents"] and "B-from" in info["labels"]
    assert info["trace"] is False


def test_tagger_answers_spans_and_has_no_trace(tagger_client):
    response = tagger_client.post("/predict", json={"texts": ["Chloe lives in New Rome."]})
    assert response.status_code == 200
    [prediction] = response.json()["predictions"]
    assert prediction["tokens"] == ["Chloe", "lives", "in", "New", "Rome", "."]
    assert prediction["spans"] == [
        {"type": "PER", "text": "Chloe", "start": 0, "end": 5},
        {"type": "LOC", "text": "New Rome", "start": 15, "end": 23},
    ]
    assert tagger_client.post("/trace", json={"text": "Chloe"}).status_code == 404
    assert tagger_client.get("/info").json()["intents"] is None
