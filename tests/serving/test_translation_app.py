"""The service for translation models (PyTorch and ONNX Runtime): translations with their
hypotheses, decoding options, limits, /info and the attention map of /trace; each runtime's
service answers what its predictor gives."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

import rnnkit
from rnnkit.serving import ServeLimits, create_app

LIMITS = ServeLimits(max_text_length=40, max_batch_size=3)
TEXTS = ["i see the big cat .", "a red house .", "the dog ."]


@pytest.fixture(scope="module", params=["torch", "onnx"])
def runtime(request) -> str:
    return request.param


@pytest.fixture(scope="module")
def translator(exported_translator_dir, runtime):
    return rnnkit.load(exported_translator_dir, runtime=runtime)


@pytest.fixture(scope="module")
def client(translator, runtime):
    return TestClient(create_app(translator, runtime=runtime, limits=LIMITS))


def test_predict_answers_the_translation_predict_gives(client, translator):
    response = client.post("/predict", json={"texts": TEXTS})
    assert response.status_code == 200
    body = response.json()
    assert body["task"] == "translate"
    expected = translator.predict(TEXTS)
    assert [p["text"] for p in body["predictions"]] == TEXTS
    assert [p["translation"] for p in body["predictions"]] == [t.best for t in expected]
    for prediction, translation in zip(body["predictions"], expected, strict=True):
        [hypothesis] = prediction["hypotheses"]  # n_best 1 by default
        assert hypothesis["text"] == prediction["translation"]
        assert hypothesis["score"] == pytest.approx(translation.translations[0][1])
        assert hypothesis["log_prob"] == pytest.approx(translation.log_probs[0])
        assert hypothesis["log_prob"] < 0


def test_beam_options_give_the_n_best_of_translate(client, translator):
    options = {"beam": 3, "n_best": 3, "length_penalty": 0.0}
    response = client.post("/predict", json={"text": TEXTS[0], "options": options})
    assert response.status_code == 200
    [prediction] = response.json()["predictions"]
    [expected] = translator.translate([TEXTS[0]], beam=3, n_best=3, length_penalty=0.0)
    hypotheses = prediction["hypotheses"]
    assert [h["text"] for h in hypotheses] == [text for text, _ in expected.translations]
    # length_penalty 0 ranks by the raw log-probability: score == log_prob, best first
    assert [h["score"] for h in hypotheses] == pytest.approx([h["log_prob"] for h in hypotheses])
    assert hypotheses[0]["log_prob"] >= hypotheses[-1]["log_prob"]


def test_greedy_option_matches_beam_one(client, translator):
    response = client.post("/predict", json={"text": TEXTS[1], "options": {"beam": 1}})
    [prediction] = response.json()["predictions"]
    assert prediction["translation"] == translator.translate([TEXTS[1]], beam=1)[0].best


@pytest.mark.parametrize(
    ("options", "location", "fragment"),
    [
        ({"temperature": 0.5}, ["body", "options", "temperature"], "Extra inputs"),
        ({"beam": 17}, ["body", "options", "beam"], "less than or equal to 16"),
        ({"beam": 0}, ["body", "options", "beam"], "greater than or equal to 1"),
        ({"beam": 2, "n_best": 3}, ["body", "options"], "n_best: expected at most beam=2, got 3"),
        ({"length_penalty": -1}, ["body", "options", "length_penalty"], "greater than or equal"),
        ({"beam": "wide"}, ["body", "options", "beam"], "valid integer"),
        ({"beam": True}, ["body", "options", "beam"], "valid integer"),
        ({"beam": "3"}, ["body", "options", "beam"], "valid integer"),
    ],
)
def test_invalid_options_get_422_naming_the_option(client, options, location, fragment):
    response = client.post("/predict", json={"text": TEXTS[0], "options": options})
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == location
    assert fragment in error["msg"]


def test_limits_and_untranslatable_texts(client):
    too_long = client.post("/predict", json={"text": "the cat " * 6})
    assert too_long.status_code == 413
    assert too_long.json() == {
        "detail": "text 1: expected at most 40 characters (max_text_length), got 48"
    }
    too_many = client.post("/predict", json={"texts": [*TEXTS, "a cat ."]})
    assert too_many.status_code == 413
    empty = client.post("/predict", json={"texts": ["the dog .", "  "]})
    assert empty.status_code == 422
    assert empty.json() == {"detail": "text 2 ('  ') has no tokens to translate"}


def test_trace_gives_the_attention_map_of_the_shown_translation(client, translator):
    text = TEXTS[0]
    response = client.post("/trace", json={"text": text})
    assert response.status_code == 200
    trace = response.json()
    best = translator.predict([text])[0].best
    walk = translator.attention(text, best)
    assert trace["text"] == text and trace["translation"] == best
    assert trace["source_tokens"] == ["i", "see", "the", "big", "cat", "."]
    assert trace["target_tokens"] == walk.target_tokens and trace["target_tokens"][-1] == "<eos>"
    assert len(trace["weights"]) == len(trace["target_tokens"])
    for row in trace["weights"]:
        assert len(row) == len(trace["source_tokens"])
        assert sum(row) == pytest.approx(1.0, abs=1e-5)
    assert trace["weights"] == [pytest.approx(row) for row in walk.weights]


def test_trace_of_a_given_translation_and_its_limits(client):
    response = client.post("/trace", json={"text": "the dog .", "translation": "le chien ."})
    assert response.status_code == 200
    assert response.json()["target_tokens"] == ["le", "chien", ".", "<eos>"]
    too_long = client.post("/trace", json={"text": "the dog .", "translation": "x" * 41})
    assert too_long.status_code == 413
    assert too_long.json()["detail"].startswith("translation: expected at most 40 characters")
    extra = client.post("/trace", json={"text": "the dog .", "beam": 2})
    assert extra.status_code == 422


def test_info_names_the_vocabularies_and_default_options(client, translator, runtime):
    info = client.get("/info").json()
    assert info["task"] == "translate" and info["runtime"] == runtime
    assert info["source_vocab_size"] == len(translator.source_vocab)
    assert info["target_vocab_size"] == len(translator.target_vocab)
    assert info["options"] == {"beam": 5, "n_best": 1, "length_penalty": 1.0}
    assert info["trace"] is True
    assert info["limits"] == {
        "max_text_length": 40,
        "max_batch_size": 3,
        "max_tokens": None,
        "over_length": "truncate",
    }
    assert "labels" not in info
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    assert {"TranslateOptions", "TranslatePrediction", "AttentionTrace"} <= set(schemas)
    options = schemas["TranslateRequest"]["properties"]["options"]
    assert "TranslateOptions" in json.dumps(options)


def test_classifier_requests_take_no_options(exported_dir):
    client = TestClient(create_app(rnnkit.load(exported_dir), runtime="torch"))
    response = client.post("/predict", json={"text": "what time is it", "options": {"beam": 2}})
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "options"] and error["type"] == "extra_forbidden"
    info = client.get("/info").json()
    assert info["options"] is None and info["labels"] == ["ask_time", "play_music", "weather"]


def test_concurrent_requests_with_different_options_get_their_own_answers(translator, runtime):
    import asyncio

    import httpx

    app = create_app(translator, runtime=runtime, limits=LIMITS)
    bodies = [
        {"texts": TEXTS[:2], "options": {"beam": 1}},
        {"texts": TEXTS[:2], "options": {"beam": 3, "n_best": 2}},
        {"texts": TEXTS[:2]},
    ]

    async def send_together() -> list:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://serve") as http:
            return await asyncio.gather(*(http.post("/predict", json=body) for body in bodies))

    greedy, beam, default = (r.json()["predictions"] for r in asyncio.run(send_together()))
    assert [len(p["hypotheses"]) for p in greedy + beam + default] == [1, 1, 2, 2, 1, 1]
    expected_beam = translator.translate(TEXTS[:2], beam=3, n_best=2)
    assert [[h["text"] for h in p["hypotheses"]] for p in beam] == [
        [text for text, _ in t.translations] for t in expected_beam
    ]
    assert [p["translation"] for p in greedy] == [
        t.best for t in translator.translate(TEXTS[:2], beam=1)
    ]
