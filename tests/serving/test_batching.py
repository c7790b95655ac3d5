"""MicroBatcher: concurrent requests share a model call; one bad request fails alone."""

from __future__ import annotations

import asyncio

import pytest

from rnnkit.errors import DataError
from rnnkit.serving.batching import MicroBatcher


class Recorder:
    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def __call__(self, texts: list[str]) -> list[str]:
        self.calls.append(list(texts))
        if "bad" in texts:
            raise DataError("bad text")
        return [text.upper() for text in texts]


async def submit_together(batcher: MicroBatcher, requests: list[list[str]]) -> list:
    return await asyncio.gather(
        *(batcher.submit(texts) for texts in requests), return_exceptions=True
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
