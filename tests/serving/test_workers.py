"""``rnnkit serve --workers 2``: two processes behind one port, each with its own model, and
the same answers as the predictor; the settings reach the workers through the environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request

import pytest
import torch

import rnnkit
from rnnkit.serving.app import SETTINGS_VARIABLE, worker_app, worker_settings
from rnnkit.serving.schemas import ServeLimits
from tests.serving.test_page_browser import free_port

TEXTS = ["what time is it", "play some jazz", "will it rain today in paris"]


def post(url: str, body: dict) -> dict:
    request = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def wait_until_healthy(server: subprocess.Popen, url: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(url + "health", timeout=1)
            return
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                pytest.fail(f"rnnkit serve --workers 2 did not start: {server.communicate()}")
            time.sleep(0.2)


def test_two_workers_answer_like_the_predictor(exported_dir):
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    command = [sys.executable, "-m", "rnnkit", "serve", str(exported_dir), "--port", str(port),
               "--workers", "2", "--max-batch-size", "5"]  # fmt: skip
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_until_healthy(server, url)
        answers = [post(url + "predict", {"text": text}) for text in TEXTS * 3]
        with urllib.request.urlopen(url + "info", timeout=10) as response:
            info = json.loads(response.read())
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
    expected = [p.label for p in rnnkit.load(exported_dir, runtime="onnx").predict(TEXTS)]
    assert [a["predictions"][0]["label"] for a in answers] == expected * 3
    assert info["runtime"] == "onnx" and info["limits"]["max_batch_size"] == 5
    assert "(classify, onnx, 2 worker(s))" in output


def test_worker_app_reads_its_settings_from_the_environment(exported_dir, monkeypatch):
    from fastapi.testclient import TestClient

    limits = ServeLimits(max_text_length=20)
    settings = worker_settings(str(exported_dir), "torch", limits, workers=2)
    assert json.loads(settings)["threads"] >= 1
    monkeypatch.setitem(os.environ, SETTINGS_VARIABLE, settings)
    threads = torch.get_num_threads()
    try:
        client = TestClient(worker_app())
    finally:
        torch.set_num_threads(threads)  # worker_app sets the (worker) process's share
    assert client.get("/info").json()["runtime"] == "torch"
    response = client.post("/predict", json={"text": "x" * 21})
    assert response.status_code == 413 and "max_text_length" in response.json()["detail"]
