"""Serving under faults: clients that go away mid-request hold up nobody, a killed worker of
``--workers 2`` is replaced while the other answers, and a soak of 1,000 requests (one in ten
malformed) gets 200 for every valid one, 4xx for every malformed one, and no memory growth
(the 20,000-request version is ``benchmarks/soak.py``)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from rnnkit.serving.batching import MicroBatcher
from tests.serving.test_batching import Recorder
from tests.serving.test_page_browser import free_port, serving
from tests.serving.test_workers import post, start_workers

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.append(str(BENCHMARKS))  # after site-packages: shadows nothing

from serve import http_request, read_response  # noqa: E402
from soak import run_soak  # noqa: E402

TEXTS = ["what time is it", "play some jazz", "will it rain today in paris"]
BODY = b'{"text": "what time is it"}'


def test_a_request_cancelled_before_its_batch_runs_is_left_out():
    run = Recorder()

    async def scenario() -> list:
        batcher = MicroBatcher(run, 8)
        tasks = [asyncio.create_task(batcher.submit([text])) for text in "abc"]
        await asyncio.sleep(0)  # all three submitted; the batch runs on the next turn
        tasks[1].cancel()  # what the server does when b's client goes away
        return await asyncio.gather(*tasks, return_exceptions=True)

    a, b, c = asyncio.run(scenario())
    assert a == ["A"] and c == ["C"] and isinstance(b, asyncio.CancelledError)
    assert run.calls == [["a", "c"]]


async def clients_that_go_away_among_others(port: int, others: int) -> list[int]:
    """Two clients go away, one half-way through its body and one before reading its
    answer, while ``others`` clients send their requests in the same moment; the others'
    statuses (each must come within 20 s)."""
    half_body = http_request("/predict", BODY)[:-10]
    leaving = []
    for request in (half_body, http_request("/predict", BODY)):
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(request)
        leaving.append(writer)
    staying = [await asyncio.open_connection("127.0.0.1", port) for _ in range(others)]
    for _, writer in staying:
        writer.write(http_request("/predict", BODY))
    for writer in leaving:
        writer.transport.abort()  # a reset, at once: the client is gone
    answers = await asyncio.wait_for(
        asyncio.gather(*(read_response(reader) for reader, _ in staying)), timeout=20
    )
    for _, writer in staying:
        writer.close()
    return [status for status, _ in answers]


def test_clients_that_disconnect_do_not_stall_the_others(exported_dir):
    with serving(exported_dir) as url:
        port = int(url.rstrip("/").rsplit(":", 1)[1])
        for _ in range(3):
            assert asyncio.run(clients_that_go_away_among_others(port, 8)) == [200] * 8
        assert post(url + "predict", {"text": TEXTS[1]})["predictions"][0]["label"]


def worker_pids(server: subprocess.Popen) -> set[int]:
    """The worker processes uvicorn spawned for ``--workers N`` (Linux ``/proc``)."""
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
    pids = set()
    for child in children:
        try:
            if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
                pids.add(int(child))
        except FileNotFoundError:  # exited meanwhile
            continue
    return pids


def two_workers(server: subprocess.Popen, without: int | None = None) -> set[int] | None:
    """The 2 worker pids, once there are 2 (and ``without`` is not one of them)."""
    pids = worker_pids(server)
    return pids if len(pids) == 2 and without not in pids else None


def wait_for(condition, what: str, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)
    return value


def test_a_killed_worker_is_replaced_and_the_service_keeps_answering(exported_dir, tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    server = start_workers(exported_dir, port, tmp_path / "serve.log")  # both workers serve
    try:
        workers = wait_for(lambda: two_workers(server), "2 workers")
        victim = min(workers)
        os.kill(victim, signal.SIGKILL)
        # each worker has a socket of its own: a connection that reaches the victim's before
        # the kernel closes it is reset (docs/serving.md), so the requests start after that
        wait_for(lambda: exited(victim), "the killed worker to exit")
        during = [post(url + "predict", {"text": text}) for text in TEXTS * 4]
        replaced = wait_for(lambda: two_workers(server, without=victim), "a new worker")
        wait_for(lambda: all_answer(url, 20), "the new worker to answer")
        assert server.poll() is None
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert [len(answer["predictions"]) for answer in during] == [1] * len(during)
    assert replaced - workers and victim not in replaced


def exited(pid: int) -> bool:
    """Whether process ``pid`` and all its threads have exited, so its files are closed (a
    zombie not yet reaped counts)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        return state == "Z" and len(os.listdir(f"/proc/{pid}/task")) == 1
    except FileNotFoundError:
        return True


def all_answer(url: str, count: int) -> bool:
    """``count`` health checks in a row all answered (so both workers take requests)."""
    for _ in range(count):
        with urllib.request.urlopen(url + "health", timeout=10) as response:
            if response.status != 200:
                return False
    return True


def test_a_short_soak_answers_every_request_rightly_without_memory_growth(exported_dir):
    result = run_soak(exported_dir, TEXTS, requests=1000, concurrency=4)
    assert result["valid_errors"] == 0 and result["valid"] == 900
    assert result["malformed_not_4xx"] == 0 and result["malformed"] == 100
    assert set(result["statuses"]) == {"200", "413", "422"}
    assert result["rss_growth"] < 0.10, result
    assert result["passed"]
