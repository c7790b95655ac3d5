"""MicroBatcher: concurrent requests share a model call; one bad request fails alone;
requests with different keys (decoding options) never share one."""

from __future__ import annotations

import asyncio

import pytest

from rnnkit.errors import DataError
from rnnkit.serving.batching import MicroBatcher


class Recorder:
    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.keys: list = []

    def __call__(self, texts: list[str], key) -> list[str]:
        self.calls.append(list(texts))
        self.keys.append(key)
        if "bad" in texts:
            raise DataError("bad text")
        return [text.upper() if key is None else f"{text}:{key}" for text in texts]


async def submit_together(batcher: MicroBatcher, requests: list, keys: list | None = None) -> list:
    keys = keys or [None] * len(requests)
    return await asyncio.gather(
        *(batcher.submit(texts, key) for texts, key in zip(requests, keys, strict=True)),
        return_exceptions=True,
    )


def test_requests_arriving_together_run_as_one_batch_in_order():
    run = Recorder()
    results = asyncio.run(submit_together(MicroBatcher(run, 8), [["a"], ["b", "c"], ["d"]]))
    assert results == [["A"], ["B", "C"], ["D"]]
    assert run.calls == [["a", "b", "c", "d"]]


def test_batches_hold_at_most_max_texts():
    run = Recorder()
    results = asyncio.run(submit_together(MicroBatcher(run, 3), [["a", "b"], ["c"], ["d", "e"]]))
    assert results == [["A", "B"], ["C"], ["D", "E"]]
    assert run.calls == [["a", "b", "c"], ["d", "e"]]


def test_a_failing_request_gets_its_error_and_the_others_their_answers():
    run = Recorder()
    good, bad, other = asyncio.run(submit_together(MicroBatcher(run, 8), [["a"], ["bad"], ["c"]]))
    assert good == ["A"] and other == ["C"]
    assert isinstance(bad, DataError) and str(bad) == "bad text"
    assert run.calls == [["a", "bad", "c"], ["a"], ["bad"], ["c"]]


def test_a_lone_request_runs_without_waiting():
    async def one() -> list:
        return await asyncio.wait_for(MicroBatcher(Recorder(), 8).submit(["x"]), timeout=5)

    assert asyncio.run(one()) == ["X"]


@pytest.mark.parametrize("count", [1, 20])
def test_every_request_is_answered_once(count):
    run = Recorder()
    requests = [[f"t{i}"] for i in range(count)]
    results = asyncio.run(submit_together(MicroBatcher(run, 64), requests))
    assert results == [[f"T{i}"] for i in range(count)]
    assert sum(len(call) for call in run.calls) == count


def test_requests_with_different_keys_run_apart_each_with_its_key():
    run = Recorder()
    requests, keys = [["a"], ["b"], ["c", "d"], ["e"]], ["beam=1", "beam=5", "beam=1", None]
    results = asyncio.run(submit_together(MicroBatcher(run, 8), requests, keys))
    assert results == [["a:beam=1"], ["b:beam=5"], ["c:beam=1", "d:beam=1"], ["E"]]
    assert sorted(zip(run.keys, run.calls, strict=True), key=str) == [
        ("beam=1", ["a", "c", "d"]),
        ("beam=5", ["b"]),
        (None, ["e"]),
    ]


def test_a_failing_request_is_rerun_alone_with_its_key():
    run = Recorder()
    results = asyncio.run(submit_together(MicroBatcher(run, 8), [["a"], ["bad"]], ["k", "k"]))
    assert results[0] == ["a:k"] and isinstance(results[1], DataError)
    assert run.keys == ["k", "k", "k"]
