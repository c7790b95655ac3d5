"""Who may call the service: the API key (file or environment), the warning for a
non-loopback address without one, and CORS only for the origins named."""

from __future__ import annotations

import json
import logging

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import rnnkit
from rnnkit.cli import app as cli_app
from rnnkit.errors import ConfigError
from rnnkit.serving import ServeAccess, create_app
from rnnkit.serving.access import API_KEY_VARIABLE, read_api_key
from rnnkit.serving.workers import SETTINGS_VARIABLE, worker_app

KEY = "s3cret-key-4b1d"
TEXT = {"text": "what time is it"}


@pytest.fixture(scope="module")
def classifier(exported_dir):
    return rnnkit.load(exported_dir, runtime="onnx")


@pytest.fixture(scope="module")
def locked(classifier) -> TestClient:
    return TestClient(create_app(classifier, "onnx", access=ServeAccess(api_key=KEY)))


@pytest.mark.parametrize("headers", [{}, {"X-API-Key": "wrong"}, {"X-API-Key": KEY + "x"}])
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/predict"),
        ("post", "/trace"),
        ("get", "/info"),
        ("get", "/openapi.json"),
        ("get", "/docs"),
    ],
)
def test_every_route_but_health_and_page_needs_the_key(locked, method, path, headers):
    response = getattr(locked, method)(
        path, headers=headers, **({"json": TEXT} if method == "post" else {})
    )
    assert response.status_code == 401
    assert response.json() == {
        "detail": "missing or wrong API key: send it in the X-API-Key header"
    }
    assert response.headers["www-authenticate"] == "X-API-Key"


def test_the_right_key_is_let_in_and_health_and_page_are_open(locked):
    response = locked.post("/predict", json=TEXT, headers={"X-API-Key": KEY})
    assert response.status_code == 200 and response.json()["predictions"][0]["label"]
    assert locked.get("/info", headers={"X-API-Key": KEY}).json()["task"] == "classify"
    assert locked.get("/health").json() == {"status": "ok"}
    assert locked.get("/").status_code == 200


def test_the_key_is_never_logged_or_echoed(locked, caplog):
    with caplog.at_level(logging.DEBUG):
        responses = [
            locked.post("/predict", json=TEXT, headers={"X-API-Key": KEY}),
            locked.post("/predict", json=TEXT, headers={"X-API-Key": KEY[:-1]}),
            locked.get("/info", headers={"X-API-Key": KEY}),
        ]
    assert all(KEY not in r.text and KEY[:-1] not in r.text for r in responses)
    assert KEY[:-1] not in caplog.text
    assert KEY not in repr(ServeAccess(api_key=KEY))


def test_key_from_a_file_or_the_environment(tmp_path, monkeypatch):
    monkeypatch.delenv(API_KEY_VARIABLE, raising=False)
    assert read_api_key(None) is None
    monkeypatch.setenv(API_KEY_VARIABLE, f" {KEY}\n")
    assert read_api_key(None) == KEY
    path = tmp_path / "key"
    path.write_text(f"{KEY}\nignored\n")
    assert read_api_key(path) == KEY  # the file wins over the environment
    path.write_text("\n")
    with pytest.raises(ConfigError, match=r"--api-key-file .*key: empty; expected the key"):
        read_api_key(path)
    monkeypatch.setenv(API_KEY_VARIABLE, "  ")
    with pytest.raises(ConfigError, match=r"RNNKIT_API_KEY: set but empty"):
        read_api_key(None)


def serve(exported_dir, monkeypatch, *options: str):
    """``rnnkit serve`` with uvicorn stubbed out: the CLI result and the app it would run."""
    import uvicorn

    runs = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **settings: runs.append((app, settings)))
    result = CliRunner().invoke(cli_app, ["serve", str(exported_dir), *options])
    assert result.exit_code == 0, result.output
    return result, runs[0][0]


def test_serve_with_a_key_file_needs_the_key_and_does_not_print_it(
    exported_dir, tmp_path, monkeypatch
):
    monkeypatch.delenv(API_KEY_VARIABLE, raising=False)
    (tmp_path / "key").write_text(KEY)
    result, app = serve(exported_dir, monkeypatch, "--host", "0.0.0.0", "--api-key-file",
                        str(tmp_path / "key"))  # fmt: skip
    assert KEY not in result.output and "warning" not in result.stderr
    client = TestClient(app)
    assert client.post("/predict", json=TEXT).status_code == 401
    assert client.post("/predict", json=TEXT, headers={"X-API-Key": KEY}).status_code == 200


@pytest.mark.parametrize(
    ("host", "warned"),
    [
        ("0.0.0.0", True),
        ("192.168.1.5", True),
        ("127.0.0.1", False),
        ("::1", False),
        ("localhost", False),
    ],
)
def test_a_non_loopback_address_without_a_key_is_warned_about(
    host, warned, exported_dir, monkeypatch
):
    monkeypatch.delenv(API_KEY_VARIABLE, raising=False)
    result, _ = serve(exported_dir, monkeypatch, "--host", host)
    warning = f"warning: serving on {host} without an API key"
    assert (warning in result.stderr) == warned, result.stderr


def test_workers_get_the_key_through_their_settings(exported_dir, monkeypatch):
    from rnnkit.serving import workers

    runs = []
    monkeypatch.setenv(API_KEY_VARIABLE, KEY)
    monkeypatch.setattr(workers, "run_workers", lambda settings, *rest: runs.append(settings))
    result = CliRunner().invoke(cli_app, ["serve", str(exported_dir), "--workers", "2"])
    assert result.exit_code == 0, result.output
    [settings] = runs
    assert settings["api_key"] == KEY and KEY not in result.output
    monkeypatch.setenv(SETTINGS_VARIABLE, json.dumps(settings))
    client = TestClient(worker_app())
    assert client.post("/predict", json=TEXT).status_code == 401
    assert client.post("/predict", json=TEXT, headers={"X-API-Key": KEY}).status_code == 200


PREFLIGHT = {
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "content-type",
}


def test_cross_origin_calls_are_refused_unless_the_origin_is_named(classifier):
    origin = "https://app.example.com"
    closed = TestClient(create_app(classifier, "onnx"))
    response = closed.options("/predict", headers={"Origin": origin, **PREFLIGHT})
    assert response.status_code == 405 and "access-control-allow-origin" not in response.headers
    response = closed.post("/predict", json=TEXT, headers={"Origin": origin})
    assert "access-control-allow-origin" not in response.headers  # so browsers refuse it

    opened = TestClient(create_app(classifier, "onnx", access=ServeAccess(cors_origins=(origin,))))
    response = opened.options("/predict", headers={"Origin": origin, **PREFLIGHT})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == origin
    response = opened.post("/predict", json=TEXT, headers={"Origin": origin})
    assert response.headers["access-control-allow-origin"] == origin
    other = opened.options("/predict", headers={"Origin": "https://evil.example", **PREFLIGHT})
    assert other.status_code == 400 and "access-control-allow-origin" not in other.headers
