"""The service for language models (PyTorch and ONNX Runtime): prompts in, generated texts
out, with per-request decoding options, the generation limits, and /info; each runtime's
service answers what its predictor gives."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import rnnkit
from rnnkit.cli import app as cli_app
from rnnkit.serving import ServeLimits, create_app

LIMITS = ServeLimits(max_text_length=20, max_batch_size=4, max_generate_length=12)


@pytest.fixture(scope="module", params=["torch", "onnx"])
def runtime(request) -> str:
    return request.param


@pytest.fixture(scope="module")
def generator(names_dir, runtime):
    return rnnkit.load(names_dir, runtime=runtime)


@pytest.fixture(scope="module")
def client(generator, runtime):
    return TestClient(create_app(generator, runtime=runtime, limits=LIMITS))


def post(client, texts: list[str], **options):
    return client.post("/predict", json={"texts": texts, "options": options})


def test_greedy_continues_each_prompt_as_generate_does(client, generator):
    response = post(client, ["", "Bo"], condition="Bor", strategy="greedy")
    assert response.status_code == 200
    body = response.json()
    assert body["task"] == "generate"
    for prediction, prompt in zip(body["predictions"], ["", "Bo"], strict=True):
        [expected] = generator.generate(1, "Bor", prompt, strategy="greedy", max_length=12)
        assert prediction["text"] == prompt and prediction["condition"] == "Bor"
        [generated] = prediction["generated"]
        assert generated["text"] == expected.text and generated["text"].startswith(prompt)
        assert generated["tokens"] == expected.tokens
        assert generated["log_prob"] == pytest.approx(expected.log_prob)
        assert generated["log_prob"] == pytest.approx(generated["score"])  # greedy: score = log p


def test_sampling_with_a_seed_is_reproducible_and_gives_n_texts(client, generator):
    first = post(client, ["A"], condition="Ana", n=3, seed=7, temperature=0.8).json()
    second = post(client, ["A"], condition="Ana", n=3, seed=7, temperature=0.8).json()
    assert first == second
    texts = [g["text"] for g in first["predictions"][0]["generated"]]
    expected = generator.generate(3, "Ana", "A", seed=7, temperature=0.8, max_length=12)
    assert texts == [g.text for g in expected]


def test_beam_gives_the_n_best_in_order(client, generator):
    response = post(client, ["B"], condition="Bor", strategy="beam", beam_size=4, n=3)
    generated = response.json()["predictions"][0]["generated"]
    expected = generator.generate(3, "Bor", "B", strategy="beam", beam_size=4, max_length=12)
    assert [g["text"] for g in generated] == [g.text for g in expected]
    assert [g["score"] for g in generated] == sorted((g["score"] for g in generated), reverse=True)


def test_max_length_bounds_the_continuation(client):
    response = post(client, [""], condition="Ana", strategy="greedy", max_length=2)
    [generated] = response.json()["predictions"][0]["generated"]
    assert len(generated["tokens"]) <= 2


@pytest.mark.parametrize(
    ("options", "location", "fragment"),
    [
        ({"beam": 3}, ["body", "options", "beam"], "Extra inputs"),
        ({"strategy": "nucleus"}, ["body", "options", "strategy"], "'sample', 'greedy' or 'beam'"),
        ({"temperature": 0}, ["body", "options", "temperature"], "greater than 0"),
        ({"top_p": 1.5}, ["body", "options", "top_p"], "less than or equal to 1"),
        ({"strategy": "greedy", "top_k": 3}, ["body", "options"], "top_k: only with strategy"),
        ({"strategy": "beam", "beam_size": 2, "n": 3}, ["body", "options"], "n: expected at most"),
        ({"beam_size": 3}, ["body", "options"], "beam_size: only with strategy 'beam'"),
    ],
)
def test_invalid_options_get_422_naming_the_option(client, options, location, fragment):
    response = client.post(
        "/predict", json={"text": "", "options": {"condition": "Ana", **options}}
    )
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == location
    assert fragment in error["msg"]


def test_an_unknown_or_missing_condition_gets_422_listing_the_conditions(client):
    unknown = post(client, [""], condition="Cyr")
    assert unknown.status_code == 422
    assert unknown.json() == {"detail": "condition: expected one of ['Ana', 'Bor'], got 'Cyr'"}
    missing = client.post("/predict", json={"text": "An"})
    assert missing.status_code == 422
    assert missing.json()["detail"].startswith("condition: this model is conditioned")


@pytest.mark.parametrize(
    ("texts", "options", "message"),
    [
        (
            [""],
            {"max_length": 13},
            "max_length: expected at most 12 tokens (max_generate_length), got 13",
        ),
        (
            ["A", "B"],
            {"n": 3},
            "n: expected at most 4 generated texts per request (max_batch_size), "
            "got 2 prompts x n=3",
        ),
        (["A" * 21], {}, "text 1: expected at most 20 characters (max_text_length), got 21"),
    ],
)
def test_requests_over_the_limits_get_413(client, texts, options, message):
    response = post(client, texts, condition="Ana", **options)
    assert response.status_code == 413
    assert response.json() == {"detail": message}


def test_info_lists_the_conditions_limits_and_default_options(client, generator):
    info = client.get("/info").json()
    assert info["task"] == "generate"
    assert info["conditions"] == ["Ana", "Bor"]
    assert info["condition_size"] == 0 and info["vocab_size"] == len(generator.vocab)
    assert info["max_generate_length"] == 12
    assert info["options"]["strategy"] == "sample" and info["options"]["max_length"] is None
    assert info["trace"] is False
    assert client.post("/trace", json={"text": "A"}).status_code == 404


def test_an_unconditioned_model_generates_from_an_empty_prompt(plain_lm_dir):
    plain = rnnkit.load(plain_lm_dir)
    client = TestClient(create_app(plain, runtime="torch", limits=LIMITS))
    response = client.post("/predict", json={"text": "", "options": {"strategy": "greedy"}})
    assert response.status_code == 200
    [prediction] = response.json()["predictions"]
    [expected] = plain.generate(1, None, "", strategy="greedy", max_length=12)
    assert prediction["condition"] is None
    assert prediction["generated"][0]["text"] == expected.text != ""
    assert client.get("/info").json()["conditions"] is None
    conditioned = client.post("/predict", json={"text": "", "options": {"condition": "Ana"}})
    assert conditioned.status_code == 422
    assert conditioned.json()["detail"] == "condition: this model is unconditioned, got 'Ana'"


def test_serve_command_sets_the_generation_limit(names_dir, monkeypatch):
    import uvicorn

    runs = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: runs.append(app))
    command = ["serve", str(names_dir), "--runtime", "torch", "--max-generate-length", "7"]
    result = CliRunner().invoke(cli_app, command)
    assert result.exit_code == 0, result.output
    [app] = runs
    client = TestClient(app)
    assert client.get("/info").json()["max_generate_length"] == 7
    response = client.post("/predict", json={"text": "", "options": {"condition": "Ana"}})
    assert response.status_code == 200
    assert len(response.json()["predictions"][0]["generated"][0]["tokens"]) <= 7
