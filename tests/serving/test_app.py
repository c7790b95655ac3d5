"""The HTTP service through FastAPI's TestClient: answers, limits and errors."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import rnnkit
from rnnkit.cli import app as cli_app
from rnnkit.serving import ServeLimits, create_app

LIMITS = ServeLimits(max_text_length=50, max_batch_size=4)


@pytest.fixture(scope="module", params=["torch", "onnx"])
def client(request, exported_dir):
    predictor = rnnkit.load(exported_dir, runtime=request.param)
    return TestClient(create_app(predictor, runtime=request.param, limits=LIMITS))


def test_predict_one_text_names_the_label_with_probabilities(client, exported_dir):
    response = client.post("/predict", json={"text": "what time is it"})
    assert response.status_code == 200
    body = response.json()
    assert body["task"] == "classify"
    [prediction] = body["predictions"]
    assert prediction["label"] == "ask_time"
    probabilities = prediction["probabilities"]
    assert probabilities[0]["label"] == "ask_time"
    assert sorted(p["label"] for p in probabilities) == ["ask_time", "play_music", "weather"]
    assert sum(p["probability"] for p in probabilities) == pytest.approx(1.0, abs=1e-5)
    assert prediction["probability"] == probabilities[0]["probability"]


def test_predict_many_texts_keeps_their_order(client):
    texts = ["play some jazz", "what time is it", "weather in paris"]
    response = client.post("/predict", json={"texts": texts})
    assert response.status_code == 200
    predictions = response.json()["predictions"]
    assert [p["text"] for p in predictions] == texts
    assert [p["label"] for p in predictions] == ["play_music", "ask_time", "weather"]


def test_trace_walks_through_every_token(client):
    response = client.post("/trace", json={"text": "what time is it"})
    assert response.status_code == 200
    trace = response.json()
    assert [step["token"] for step in trace["steps"]] == ["what", "time", "is", "it"]
    assert trace["label"] == "ask_time"
    assert sum(step["attention"] for step in trace["steps"]) == pytest.approx(1.0, abs=1e-5)


def test_health_info_docs_and_page(client):
    assert client.get("/health").json() == {"status": "ok"}
    info = client.get("/info").json()
    assert info["task"] == "classify"
    assert info["labels"] == ["ask_time", "play_music", "weather"]
    assert info["config"]["model"]["cell"] == "lstm"
    assert info["limits"] == {
        "max_text_length": 50,
        "max_batch_size": 4,
        "max_tokens": None,
        "over_length": "truncate",
    }
    assert {"rnnkit", "torch", "fastapi"} <= set(info["versions"])
    assert ("onnxruntime" in info["versions"]) == (info["runtime"] == "onnx")
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/predict", "/trace", "/health", "/info"} <= set(paths)
    assert "docs/rnn-tutorial.md" in paths["/trace"]["post"]["description"]
    assert client.get("/docs").status_code == 200
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert (
        'id="label"' in page.text
        and "<script" in page.text
        and "http" not in page.text.split("<script")[1].replace("http://www.w3.org/2000/svg", "")
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"text": "x" * 51}, "text 1: expected at most 50 characters (max_text_length), got 51"),
        ({"texts": ["hi"] * 5}, "texts: expected at most 4 texts (max_batch_size), got 5"),
    ],
)
def test_oversize_requests_get_413_with_a_json_error(client, body, message):
    response = client.post("/predict", json=body)
    assert response.status_code == 413
    assert response.json() == {"detail": message}


def test_a_body_larger_than_any_valid_request_is_refused_before_reading(client):
    response = client.post(
        "/predict", content=b"{" + b" " * LIMITS.max_body_bytes + b"}",
        headers={"content-type": "application/json"},
    )  # fmt: skip
    assert response.status_code == 413
    assert response.json()["detail"].startswith("request body: expected at most")


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b'{"text": "unterminated', "JSON decode error"),
        (json.dumps({"text": "a", "texts": ["b"]}).encode(), "exactly one of 'text' or 'texts'"),
        (b"{}", "exactly one of 'text' or 'texts'"),
        (json.dumps({"texts": []}).encode(), "expected at least one text"),
        (json.dumps({"text": 3}).encode(), "string"),
        (json.dumps({"text": "a", "lang": "en"}).encode(), "Extra inputs are not permitted"),
    ],
)
def test_malformed_requests_get_422(client, content, fragment):
    response = client.post(
        "/predict", content=content, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert fragment in json.dumps(response.json()["detail"])


def test_a_text_without_tokens_gets_422_naming_it(client):
    response = client.post("/predict", json={"texts": ["what time is it", "   "]})
    assert response.status_code == 422
    assert response.json() == {"detail": "text 2 ('   ') has no tokens to classify"}
    assert client.get("/health").status_code == 200  # the worker is still there


def test_serve_command_loads_the_model_once_and_binds_loopback(exported_dir, monkeypatch):
    import uvicorn

    loads, runs = [], []
    real_load = rnnkit.api.load
    monkeypatch.setattr(rnnkit.api, "load", lambda *a, **k: loads.append(k) or real_load(*a, **k))
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: runs.append((app, options)))
    result = CliRunner().invoke(cli_app, ["serve", str(exported_dir), "--port", "8123"])
    assert result.exit_code == 0, result.output
    assert loads == [{"runtime": "onnx", "device": "cpu"}]
    [(app, options)] = runs
    assert options["host"] == "127.0.0.1" and options["port"] == 8123
    assert TestClient(app).post("/predict", json={"text": "play some jazz"}).status_code == 200


def test_serve_command_rejects_an_unknown_runtime(exported_dir):
    result = CliRunner().invoke(cli_app, ["serve", str(exported_dir), "--runtime", "tvm"])
    assert result.exit_code == 1
    assert "runtime: expected one of ['torch', 'onnx', 'onnx-int8'], got 'tvm'" in result.output


@pytest.mark.parametrize("command", ["export", "serve"])
def test_export_and_serve_have_help_with_an_example(command):
    result = CliRunner().invoke(cli_app, [command, "--help"])
    assert result.exit_code == 0
    assert f"Example: rnnkit {command}" in result.output
