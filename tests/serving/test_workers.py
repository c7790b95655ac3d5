"""``rnnkit serve --workers 2``: two processes behind one port, each with its own model, and
the same answers as the predictor; the settings reach the workers through the environment. On
Linux each worker has its own socket: both take connections, the command says it serves only
once both do, a port in use is refused, and a worker that cannot start ends the command in one
line. Elsewhere the workers share uvicorn's one socket."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
import torch
from typer.testing import CliRunner

import rnnkit
from rnnkit.cli import app as cli_app
from rnnkit.errors import ConfigError
from rnnkit.serving.schemas import ServeLimits
from rnnkit.serving.workers import (
    SETTINGS_VARIABLE,
    WORKER_APP,
    claim_port,
    reuse_port_supported,
    worker_app,
    worker_settings,
)
from tests.serving.test_page_browser import free_port

TEXTS = ["what time is it", "play some jazz", "will it rain today in paris"]


def post(url: str, body: dict) -> dict:
    request = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def start_workers(directory: Path, port: int, log: Path, *options: str) -> subprocess.Popen:
    """``rnnkit serve DIR --workers 2`` with its output in ``log``, once it says it serves."""
    command = [sys.executable, "-m", "rnnkit", "serve", str(directory), "--port", str(port),
               "--workers", "2", *options]  # fmt: skip
    with log.open("w") as output:
        server = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 120
    while "serving " not in log.read_text():
        if time.monotonic() > deadline or server.poll() is not None:
            server.kill()
            pytest.fail(f"rnnkit serve --workers 2 did not start: {log.read_text()}")
        time.sleep(0.2)
    return server


def test_two_workers_answer_like_the_predictor(exported_dir, tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    log = tmp_path / "serve.log"
    server = start_workers(exported_dir, port, log, "--max-batch-size", "5")
    try:
        answers = [post(url + "predict", {"text": text}) for text in TEXTS * 3]
        with urllib.request.urlopen(url + "info", timeout=10) as response:
            info = json.loads(response.read())
    finally:
        server.terminate()
        server.wait(timeout=30)
    expected = [p.label for p in rnnkit.load(exported_dir, runtime="onnx").predict(TEXTS)]
    assert [a["predictions"][0]["label"] for a in answers] == expected * 3
    assert info["runtime"] == "onnx" and info["limits"]["max_batch_size"] == 5
    assert f"(classify, onnx, 2 worker(s)) on {url}\n" in log.read_text()


def test_worker_app_reads_its_settings_from_the_environment(exported_dir, monkeypatch):
    from fastapi.testclient import TestClient

    limits = ServeLimits(max_text_length=20)
    settings = worker_settings(str(exported_dir), "torch", limits, workers=2)
    assert settings["threads"] >= 1
    monkeypatch.setitem(os.environ, SETTINGS_VARIABLE, json.dumps(settings))
    threads = torch.get_num_threads()
    try:
        client = TestClient(worker_app())
    finally:
        torch.set_num_threads(threads)  # worker_app sets the (worker) process's share
    assert client.get("/info").json()["runtime"] == "torch"
    response = client.post("/predict", json={"text": "x" * 21})
    assert response.status_code == 413 and "max_text_length" in response.json()["detail"]


def test_without_so_reuseport_the_workers_share_uvicorns_socket(exported_dir, monkeypatch):
    import uvicorn

    runs = []
    monkeypatch.delattr(socket, "SO_REUSEPORT", raising=False)
    monkeypatch.delenv(SETTINGS_VARIABLE, raising=False)  # restored after the test
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: runs.append((app, options)))
    result = CliRunner().invoke(cli_app, ["serve", str(exported_dir), "--workers", "2"])
    assert result.exit_code == 0, result.output
    [(app, options)] = runs
    assert app == WORKER_APP and options["workers"] == 2 and options["factory"] is True
    assert json.loads(os.environ[SETTINGS_VARIABLE])["model_dir"] == str(exported_dir)


linux_only = pytest.mark.skipif(
    not reuse_port_supported(), reason="one socket per worker needs Linux's SO_REUSEPORT"
)


def connections_per_worker(
    server: subprocess.Popen, port: int, status: str = "ESTABLISHED"
) -> dict[int, int]:
    """Each worker process's connections on ``port`` in ``status`` (``LISTEN``: its socket)."""
    counts: dict[int, int] = {}
    for child in psutil.Process(server.pid).children():
        try:  # a killed worker stays a zombie until the supervisor reaps it
            if "spawn_main" in " ".join(child.cmdline()):
                counts[child.pid] = sum(
                    connection.laddr.port == port and connection.status == status
                    for connection in child.net_connections("tcp")
                )
        except (psutil.ZombieProcess, psutil.NoSuchProcess):
            continue
    return counts


@contextlib.contextmanager
def workers_and_clients(
    directory: Path, log: Path, clients: int
) -> Iterator[tuple[subprocess.Popen, int, list[http.client.HTTPConnection]]]:
    """``rnnkit serve --workers 2`` on a free port and ``clients`` connections to it (not yet
    opened); afterwards the connections are closed and the server is stopped with SIGTERM."""
    port = free_port()
    server = start_workers(directory, port, log)
    connections = [http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                   for _ in range(clients)]  # fmt: skip
    try:
        yield server, port, connections
    finally:
        for connection in connections:
            connection.close()
        server.terminate()
        server.wait(timeout=30)


@linux_only
def test_each_worker_has_its_own_socket_and_takes_connections(exported_dir, tmp_path):
    with workers_and_clients(exported_dir, tmp_path / "serve.log", 16) as (server, port, clients):
        for client in clients:  # every connection answered: accepted by a worker, kept open
            client.request("GET", "/health")
            assert client.getresponse().read() == b'{"status":"ok"}'
        counts = connections_per_worker(server, port)
        with pytest.raises(ConfigError, match=f"--port {port}: already in use on 127.0.0.1"):
            claim_port("127.0.0.1", port)  # a second service would join these workers
    # The kernel picks a worker by a hash of each client address: all 16 on one of the two
    # would happen about once in 30,000 runs.
    assert len(counts) == 2 and sum(counts.values()) == 16, counts
    assert min(counts.values()) >= 1, counts
    assert server.returncode == 0  # SIGTERM: a clean stop


def listening_workers(server: subprocess.Popen, port: int) -> set[int]:
    """The worker processes that listen on ``port`` (each on a socket of its own)."""
    return {pid for pid, count in connections_per_worker(server, port, "LISTEN").items() if count}


@linux_only
def test_a_killed_worker_is_replaced_by_one_that_takes_connections(exported_dir, tmp_path):
    with workers_and_clients(exported_dir, tmp_path / "serve.log", 32) as (server, port, clients):
        first = listening_workers(server, port)
        assert len(first) == 2, first
        os.kill(min(first), signal.SIGKILL)
        deadline = time.monotonic() + 120
        while len(listening_workers(server, port) - first) != 1:  # loaded, listening
            assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
            time.sleep(0.2)
        replacement = (listening_workers(server, port) - first).pop()
        labels = []
        for client in clients:  # every connection answered, the new worker's included
            client.request("POST", "/predict", json.dumps({"text": TEXTS[0]}),
                           {"Content-Type": "application/json"})  # fmt: skip
            labels.append(json.loads(client.getresponse().read())["predictions"][0]["label"])
        counts = connections_per_worker(server, port)
    expected = rnnkit.load(exported_dir, runtime="onnx").predict(TEXTS[:1])[0].label
    assert labels == [expected] * 32
    # 32 connections spread by address hash: none on the new worker about once in 4e9 runs
    assert set(counts) == {replacement, max(first)}, counts
    assert counts[replacement] >= 1, counts


@linux_only
def test_a_port_in_use_is_refused_in_one_line(exported_dir):
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        command = ["serve", str(exported_dir), "--port", str(port), "--workers", "2"]
        result = CliRunner().invoke(cli_app, command)
    assert result.exit_code == 1
    assert result.output == (
        f"error: --port {port}: already in use on 127.0.0.1; stop what listens there or "
        "choose another port\n"
    )


# The command's own check of the directory passes (it loads a model that is there); its
# workers are then given a directory that is not.
FAILING_WORKERS = """
import sys
import rnnkit.api
from rnnkit.cli import main

real_load, model_dir = rnnkit.api.load, sys.argv[1]
rnnkit.api.load = lambda directory, **options: real_load(model_dir, **options)
sys.argv = ["rnnkit", "serve", sys.argv[2], "--workers", "2", "--port", sys.argv[3]]
main()
"""


@linux_only
def test_a_worker_that_cannot_load_the_model_ends_the_command_in_one_line(exported_dir, tmp_path):
    missing = tmp_path / "gone"
    command = [sys.executable, "-c", FAILING_WORKERS, str(exported_dir), str(missing),
               str(free_port())]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        "error: --workers: a worker process could not start: model directory not found: "
        f"{missing}\n"
    )
